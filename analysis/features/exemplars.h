#pragma once
// Dataset exemplars ("Microscope for your own model"; Olah, Mordvintsev & Schubert 2017, "Feature
// Visualization", Distill, the dataset-examples column; Zeiler & Fergus 2014 for the crops): for
// every channel of every chosen tap, the k images of a data set with the highest channel score,
// the score being the channel's maximum or mean over positions, and the crop of the theoretical
// receptive field around the channel's argmax position. One streaming, batched pass with a
// bounded heap of k entries per channel; ties are broken by the lower image index. An index is
// keyed by the weights' SHA-256, the data set's content hash, the tap list, k and the score, and
// shards of one run (images i with i % N == K - 1) merge into exactly the single run's index.
#include "analysis/features/image_source.h"
#include "analysis/model_loader.h"
#include "analysis/run_record.h"

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace fs::analysis {

enum class ExemplarScore { Max, Mean };
ExemplarScore parseExemplarScore(const std::string& name);  // max | mean; InputError otherwise
const char* exemplarScoreName(ExemplarScore s);

struct Exemplar {
  int64_t image = 0;       // index in the data set
  float score = 0.f;
  int cellY = 0, cellX = 0;  // argmax position in the tap's map
  int box[4] = {0, 0, 0, 0}; // receptive-field crop in model-input pixels: x0, y0, x1, y1 (half-open)
};

// Score descending, then image index ascending.
bool exemplarBefore(const Exemplar& a, const Exemplar& b);

struct ExemplarIndex {
  std::string model;            // id or config path
  std::string weightsSha256;
  std::string dataset;          // description
  std::string datasetSha256;
  int64_t imageCount = 0;       // the whole data set (all shards)
  std::vector<std::string> taps;
  int k = 9;
  ExemplarScore score = ExemplarScore::Max;
  ShardSpec shard;
  int inputHeight = 0, inputWidth = 0;
  std::map<int64_t, std::string> imageNames;                   // the images the index refers to
  std::map<std::string, std::vector<std::vector<Exemplar>>> channels;  // tap -> channel -> best first

  // Same model weights, data, taps, k and score (the shard may differ).
  bool sameKey(const ExemplarIndex& other) const;
};

struct ExemplarOptions {
  std::vector<std::string> taps;  // empty: the model's stages()
  int k = 9;
  ExemplarScore score = ExemplarScore::Max;
  int batch = 0;                  // 0: analysis::inferenceBatchSize
  ShardSpec shard;
};

// The streaming pass; `progress(done, total)` after each batch returns false to cancel
// (InputError "cancelled"). `weightsSha256` is recorded as the key.
ExemplarIndex computeExemplars(LoadedModel& model, const std::string& weightsSha256, const ImageSource& source,
                               const ExemplarOptions& options,
                               const std::function<bool(int64_t, int64_t)>& progress = {});

// The shards 1..N of one run, each exactly once (InputError naming the problem otherwise).
ExemplarIndex mergeExemplarShards(const std::vector<ExemplarIndex>& shards);

// The index file (JSON) and back; InputError naming `path` for a file that is not an index.
std::string exemplarIndexText(const ExemplarIndex& index);
ExemplarIndex parseExemplarIndex(const std::string& text, const std::string& path);
ExemplarIndex readExemplarIndex(const std::string& path);

}  // namespace fs::analysis
