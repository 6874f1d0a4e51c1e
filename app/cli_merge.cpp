// merge: combines the record files of a sharded export or evaluate run into the file one run
// writes (see analysis/shard_merge.h).
#include "analysis/counted.h"
#include "analysis/shard_merge.h"
#include "app/cli_commands.h"

#include <iostream>

namespace fs::app {
namespace {

int runMerge(const Args& a) {
  const fs::analysis::MergeResult r = fs::analysis::mergeShards(a.positional, a.value("--out"));
  std::cout << "merge: " << r.shards << " shards of an " << r.kind << ", " << fs::analysis::counted(r.images, "image")
            << " (" << r.done << " done, " << r.failed << " failed) -> " << r.path << "\n";
  for (const std::string& t : r.tables) std::cout << "merge: table " << t << "\n";
  return r.failed > 0 ? 3 : 0;
}

const CommandRegistrar kMerge{
    {"merge",
     "merge OUT_DIR_OR_FILES... [--out FILE]\n"
     "  Combines the shards of one run into exactly the file a single run writes: export's\n"
     "  OUT/manifest-shard-K-of-N.json into OUT/manifest.json, evaluate's NAME-shard-K-of-N.json into\n"
     "  NAME.json (per-image records, and the means recomputed from them in image order) with evaluate's\n"
     "  NAME.rows.csv, NAME.summary.csv and NAME.agreement.csv, as one run writes them. A folder\n"
     "  stands for every NAME-shard-K-of-N.json in it. Refuses (exit code 3, nothing written) unless the\n"
     "  shards are one run: same tool and options, the same N, every shard 1..N once, no image twice,\n"
     "  every image recorded (a shard still running or killed is incomplete: run it again, finished\n"
     "  images are skipped), and every exported file present. Exit code 3 also when images failed.",
     {{"--out"}, {}, 1, -1},
     runMerge}};

}  // namespace
}  // namespace fs::app
