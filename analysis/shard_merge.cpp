// Merging the record files of a sharded run: finding and grouping the shard files, the checks that
// they make up one complete run, and one results function per kind of record.
#include "analysis/shard_merge.h"

#include "analysis/json_text.h"
#include "analysis/run_record.h"
#include "analysis/scorecard.h"
#include "analysis/string_list.h"
#include "model/atomic_file.h"
#include "model/errors.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>

namespace fs::analysis {
namespace fsys = std::filesystem;
using fs::model::InputError;
using nlohmann::json;

namespace {

struct Shard {
  std::string path;
  std::string prefix;  // "dir/NAME" of "dir/NAME-shard-K-of-N.json"
  ShardSpec spec;
  json doc;
};

using Entries = std::map<std::string, std::string>;  // image name (quoted) -> compact record

json summaryOf(const std::vector<json>& entries) {
  int done = 0, failed = 0;
  for (const auto& e : entries) (e.value("status", "") == "done" ? done : failed) += 1;
  return {{"images", entries.size()}, {"done", done}, {"skipped", 0}, {"failed", failed}};
}

// Export manifests: every output a done image lists must exist beside the manifest.
void finishExport(json& merged, const std::vector<json>& entries, const std::string& dir) {
  for (const auto& e : entries) {
    if (e.value("status", "") != "done") continue;
    for (const auto& [model, outputs] : e["models"].items()) {
      std::vector<std::string> files;
      for (const auto& [tap, path] : outputs["features"].items()) files.push_back(path.get<std::string>());
      for (const auto& [method, paths] : outputs["saliency"].items())
        files.insert(files.end(), {paths["npy"].get<std::string>(), paths["png"].get<std::string>()});
      for (const auto& f : files)
        if (!fsys::exists(fsys::path(dir) / f))
          throw InputError((fsys::path(dir) / f).string() + ": listed as exported but missing");
    }
  }
  merged["summary"] = summaryOf(entries);
}

// Evaluate scorecards: the means recomputed from every record, in image order.
void finishScorecard(json& merged, const std::vector<json>& entries, const std::string&) {
  std::vector<std::string> texts;
  for (const auto& e : entries) texts.push_back(compactJson(e));
  merged["aggregate"] = json::parse(scorecardAggregate(merged.dump(), texts));
  merged["summary"] = summaryOf(entries);
}

// One line per kind of record: the tool that writes it, the members that are results (not options,
// recomputed here) and the function that recomputes them.
struct MergeKind {
  const char* tool;
  const char* what;
  std::vector<std::string> results;
  void (*finish)(json& merged, const std::vector<json>& entries, const std::string& dir);
};
const std::vector<MergeKind>& mergeKinds() {
  static const std::vector<MergeKind> kinds{
      {"featurescope-cli export", "export manifest", {"summary", "updated"}, finishExport},
      {"featurescope-cli evaluate", "evaluate scorecard", {"aggregate", "summary", "updated"}, finishScorecard},
  };
  return kinds;
}

const std::regex kShardName(R"((.*)-shard-([0-9]+)-of-([0-9]+)\.json)");

Shard readShard(const std::string& path) {
  std::smatch m;
  const std::string name = fsys::path(path).filename().string();
  if (!std::regex_match(name, m, kShardName))
    throw InputError(path + ": not a shard file (expected NAME-shard-K-of-N.json)");
  std::ifstream in(path);
  if (!in) throw InputError(path + ": cannot be read");
  Shard s{path, (fsys::path(path).parent_path() / m[1].str()).string(), {}, json::parse(in, nullptr, false)};
  if (!s.doc.is_object() || !s.doc.contains("shard") || !s.doc.contains("images") || !s.doc["images"].is_object())
    throw InputError(path + ": not a featurescope record (no shard or images)");
  s.spec = {s.doc["shard"].value("index", 0), s.doc["shard"].value("count", 0)};
  if (std::to_string(s.spec.index) != m[2].str() || std::to_string(s.spec.count) != m[3].str())
    throw InputError(path + ": its name says shard " + m[2].str() + "/" + m[3].str() + " but it records shard " +
                     std::to_string(s.spec.index) + "/" + std::to_string(s.spec.count));
  return s;
}

std::vector<Shard> collect(const std::vector<std::string>& inputs) {
  std::vector<Shard> shards;
  for (const auto& input : inputs) {
    std::error_code ec;
    if (!fsys::is_directory(input, ec)) {
      if (!fsys::exists(input, ec)) throw InputError(input + ": no such file or folder");
      shards.push_back(readShard(input));
      continue;
    }
    std::vector<std::string> found;
    for (const auto& e : fsys::directory_iterator(input, ec))
      if (e.is_regular_file() && std::regex_match(e.path().filename().string(), kShardName))
        found.push_back(e.path().string());
    if (found.empty()) throw InputError(input + ": no shard files (NAME-shard-K-of-N.json) in this folder");
    std::sort(found.begin(), found.end());
    for (const auto& f : found) shards.push_back(readShard(f));
  }
  if (shards.empty()) throw InputError("merge: no shard files given");
  return shards;
}

const MergeKind& kindOf(const Shard& s) {
  const std::string tool = s.doc.value("tool", "");
  for (const auto& k : mergeKinds())
    if (tool == k.tool) return k;
  throw InputError(s.path + ": not an export manifest or evaluate scorecard (tool '" + tool + "')");
}

// Same kind, prefix, shard count and options; every shard 1..N exactly once.
void checkSameRun(std::vector<Shard>& shards, const MergeKind& kind) {
  const Shard& first = shards.front();
  const auto options = [&](const json& doc) {
    json o = doc;
    for (const auto& k : kind.results) o.erase(k);
    o.erase("shard"), o.erase("images");
    return o;
  };
  const json reference = options(first.doc);
  for (const auto& s : shards) {
    if (&kindOf(s) != &kind) throw InputError(s.path + ": a " + kindOf(s).what + ", " + first.path + ": a " + kind.what);
    if (s.prefix != first.prefix)
      throw InputError(s.path + " and " + first.path + ": shards of different runs (names differ); merge one run at a time");
    if (s.spec.count != first.spec.count)
      throw InputError(s.path + ": shard of " + std::to_string(s.spec.count) + ", " + first.path + ": of " +
                       std::to_string(first.spec.count));
    const json o = options(s.doc);
    for (const auto& [key, value] : reference.items())
      if (!o.contains(key) || o[key] != value)
        throw InputError(s.path + ": differs from " + first.path + " in '" + key + "' (a shard of another run?)");
    for (const auto& [key, value] : o.items())
      if (!reference.contains(key)) throw InputError(s.path + ": differs from " + first.path + " in '" + key + "'");
  }
  std::sort(shards.begin(), shards.end(), [](const Shard& a, const Shard& b) { return a.spec.index < b.spec.index; });
  const int n = first.spec.count;
  if (n < 2) throw InputError(first.path + ": a run of one shard; nothing to merge");
  std::vector<std::string> missing;
  for (size_t i = 0, k = 1; k <= size_t(n); ++k) {
    if (i < shards.size() && shards[i].spec.index == int(k)) {
      if (i + 1 < shards.size() && shards[i + 1].spec.index == int(k))
        throw InputError(shards[i].path + " and " + shards[i + 1].path + ": both are shard " + std::to_string(k));
      ++i;
    } else {
      missing.push_back(std::to_string(k) + "/" + std::to_string(n));
    }
  }
  if (!missing.empty()) {
    throw InputError(first.prefix + "-shard-*: missing shard " + joinList(missing));
  }
}

// Every image once, in the shard that takes it, and every image of the run recorded.
Entries collectEntries(const std::vector<Shard>& shards) {
  const int64_t total = shards.front().doc.value("images_total", int64_t(-1));
  if (total < 0) throw InputError(shards.front().path + ": no images_total (written by an older version?)");
  Entries entries;
  std::map<int64_t, std::string> owner;  // index -> the shard file that records it
  std::map<std::string, std::string> nameOwner;
  for (const auto& s : shards) {
    int64_t count = 0;
    for (const auto& [name, entry] : s.doc["images"].items()) {
      const int64_t index = entry.is_object() ? entry.value("index", int64_t(-1)) : -1;
      if (index < 0 || index >= total || !inShard(size_t(index), s.spec))
        throw InputError(s.path + ": image '" + name + "' (index " + std::to_string(index) +
                         ") does not belong to shard " + std::to_string(s.spec.index) + "/" +
                         std::to_string(s.spec.count));
      const std::string key = compactJson(name);
      if (nameOwner.count(key) || owner.count(index))
        throw InputError(s.path + ": image '" + name + "' is also recorded in " +
                         (nameOwner.count(key) ? nameOwner[key] : owner[index]));
      entries[key] = compactJson(entry), owner[index] = s.path, nameOwner[key] = s.path, ++count;
    }
    const int64_t expected = (total + s.spec.count - s.spec.index) / s.spec.count;
    if (count != expected)
      throw InputError(s.path + ": shard " + std::to_string(s.spec.index) + "/" + std::to_string(s.spec.count) +
                       " is incomplete (" + std::to_string(count) + " of " + std::to_string(expected) +
                       " images recorded); run it again (finished images are skipped), then merge");
  }
  return entries;
}

MergeResult mergeChecked(const std::vector<std::string>& inputs, const std::string& outPath) {
  std::vector<Shard> shards = collect(inputs);
  const MergeKind& kind = kindOf(shards.front());
  checkSameRun(shards, kind);
  const Entries entries = collectEntries(shards);
  std::vector<json> parsed;
  for (const auto& [name, entry] : entries) parsed.push_back(json::parse(entry));

  json merged = shards.front().doc;
  merged.erase("images");
  merged["shard"]["index"] = 1;
  merged["shard"]["count"] = 1;
  const std::string dir = fsys::path(shards.front().path).parent_path().string();
  kind.finish(merged, parsed, dir.empty() ? "." : dir);
  std::string updated;
  for (const auto& s : shards) updated = std::max(updated, s.doc.value("updated", std::string()));
  merged["updated"] = updated;

  MergeResult r;
  r.kind = kind.what, r.path = outPath.empty() ? shards.front().prefix + ".json" : outPath;
  r.shards = int(shards.size()), r.images = int(parsed.size());
  for (const auto& e : parsed) (e.value("status", "") == "done" ? r.done : r.failed) += 1;
  fs::model::writeFileAtomically(r.path, recordText(merged.dump(2), entries));
  if (std::string(kind.tool) == "featurescope-cli evaluate")  // the CSV tables a single run writes
    r.tables = writeScorecardTables(r.path, merged["methods"].get<std::vector<std::string>>(), entries,
                                    compactJson(merged["aggregate"]));
  return r;
}

}  // namespace

MergeResult mergeShards(const std::vector<std::string>& inputs, const std::string& outPath) {
  try {
    return mergeChecked(inputs, outPath);
  } catch (const json::exception& e) {
    throw InputError(std::string("merge: malformed shard record (") + e.what() + ")");
  }
}

}  // namespace fs::analysis
