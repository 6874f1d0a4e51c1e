#pragma once
// featurescope-cli merge: combines the record files of the shards of one run (export manifests,
// evaluate scorecards) into the file a single run writes, after checking that they belong to the
// same run (same tool and options, shard count, every shard 1..N once, no image twice, every image
// recorded). Each kind of record is one entry in shard_merge.cpp's table: its tool name and the
// function that computes its results (summary, means) from the merged records.
#include <string>
#include <vector>

namespace fs::analysis {

struct MergeResult {
  std::string kind;  // "export manifest", "evaluate scorecard"
  std::string path;  // the merged file
  int shards = 0;
  int images = 0;
  int done = 0;
  int failed = 0;
  std::vector<std::string> tables;  // evaluate: the CSV tables written beside the merged file
};

// `inputs`: folders (every NAME-shard-K-of-N.json in them) and/or shard files. The merged file is
// NAME.json beside the shards unless `outPath` is given. fs::model::InputError naming the file and
// the reason when the shards do not make up one complete run; nothing is written then.
MergeResult mergeShards(const std::vector<std::string>& inputs, const std::string& outPath = "");

}  // namespace fs::analysis
