// Record files of shardable runs: shard parsing, shard file names and the record text.
#include "analysis/run_record.h"

#include "analysis/memory_limits.h"
#include "model/errors.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>

namespace fs::analysis {

ShardSpec parseShard(const std::string& text) {
  int k = 0, n = 0;
  char extra = 0;
  if (std::sscanf(text.c_str(), "%d/%d%c", &k, &n, &extra) != 2 || n < 1 || k < 1 || k > n)
    throw fs::model::UsageError("--shard expects K/N with 1 <= K <= N, got '" + text + "'");
  return {k, n};
}

int forEachInShard(const std::vector<std::string>& files, const ShardSpec& shard, const std::string& tool,
                   const std::function<std::string(size_t, const std::string&)>& process,
                   const std::function<void(const std::string&)>& log, const std::function<void()>& save,
                   double saveInterval) {
  using Clock = std::chrono::steady_clock;
  const int size = int((files.size() + size_t(shard.count - shard.index)) / size_t(shard.count));
  const auto interval = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(saveInterval));
  auto nextSave = Clock::now() + interval;
  int k = 0;
  for (size_t i = 0; i < files.size(); ++i) {
    if (!inShard(i, shard)) continue;
    const auto t0 = Clock::now();
    const std::string name = std::filesystem::path(files[i]).filename().string();
    const std::string status = process(i, name);
    releaseFreedHeapBetweenImages();
    char timing[32];
    std::snprintf(timing, sizeof timing, " (%.1f s)", std::chrono::duration<double>(Clock::now() - t0).count());
    if (log)
      log(tool + " [" + std::to_string(++k) + "/" + std::to_string(size) + "] " + name + ": " + status +
          (status.rfind("skipped", 0) == 0 ? "" : timing));
    if (Clock::now() >= nextSave) {
      // A save costs time in proportion to the images recorded (an evaluate save re-aggregates and
      // bootstraps them all), so it waits at least 19 times its own cost: at most 5% of the run.
      const auto s0 = Clock::now();
      save();
      const auto s1 = Clock::now();
      nextSave = s1 + std::max<Clock::duration>(interval, 19 * (s1 - s0));
    }
  }
  return size;
}

std::string shardFileName(const std::string& path, const ShardSpec& shard) {
  if (shard.count <= 1) return path;
  const std::filesystem::path p(path);
  const std::string name =
      p.stem().string() + "-shard-" + std::to_string(shard.index) + "-of-" + std::to_string(shard.count);
  return (p.parent_path() / (name + p.extension().string())).string();
}

std::string recordText(const std::string& header, const std::map<std::string, std::string>& entries) {
  size_t size = header.size() + 32;
  for (const auto& [name, entry] : entries) size += name.size() + entry.size() + 16;
  std::string text;
  text.reserve(size);  // one block: a long run's growing record would otherwise leave a trail of
                       // freed, ever larger buffers behind in the heap
  text = header;       // "{\n  ...\n}"
  text.resize(text.size() - 2);
  text += ",\n  \"images\": {";
  for (auto it = entries.begin(); it != entries.end(); ++it)
    text += (it == entries.begin() ? "\n    " : ",\n    ") + it->first + ": " + it->second;
  text += entries.empty() ? "}\n}\n" : "\n  }\n}\n";
  return text;
}

std::string utcNow() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);  // thread-safe: the GUI's worker and export threads call this too
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace fs::analysis
