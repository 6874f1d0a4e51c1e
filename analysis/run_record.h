#pragma once
// The record files of long, shardable runs (export manifests, evaluate scorecards): which images a
// shard takes, the file name of a shard's record, and the record text itself (the run's header
// pretty-printed, then one compact line per image), so that a single run and `featurescope-cli
// merge` write the same bytes. Plain functions; no state.
#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace fs::analysis {

// "K/N" with 1 <= K <= N: this shard takes the images i (0-based, sorted order) with i % N == K-1.
struct ShardSpec {
  int index = 1;
  int count = 1;
};
ShardSpec parseShard(const std::string& text);  // fs::model::UsageError when malformed
inline bool inShard(size_t image, const ShardSpec& s) { return int(image % size_t(s.count)) == s.index - 1; }

// The loop of a shardable run: process(i, file name) for every image i of `files` in `shard`, in
// order; one `log` line per image ("TOOL [k/n] NAME: STATUS (1.2 s)", no time after a status that
// starts with "skipped"); `save` after an image once `saveInterval` seconds have passed since the
// last save and also 19 times as long as that save took (saves stay under 5% of the run as the
// record grows; none after the last image). After each image, releaseFreedHeapBetweenImages
// (memory_limits.h). Returns the shard's size.
int forEachInShard(const std::vector<std::string>& files, const ShardSpec& shard, const std::string& tool,
                   const std::function<std::string(size_t, const std::string&)>& process,
                   const std::function<void(const std::string&)>& log, const std::function<void()>& save,
                   double saveInterval = 5.0);

// "dir/name.json" -> "dir/name-shard-K-of-N.json" when N > 1, else unchanged.
std::string shardFileName(const std::string& path, const ShardSpec& shard);

// `header` is a JSON object pretty-printed with 2 spaces (nlohmann's dump(2)); `entries` maps each
// image name (a JSON string literal, quoted) to its compact JSON entry. Returns the header with
// "images": {...} appended as its last member, one entry per line.
std::string recordText(const std::string& header, const std::map<std::string, std::string>& entries);

// The current UTC time as ISO 8601 ("2026-11-30T00:12:34Z").
std::string utcNow();

}  // namespace fs::analysis
