#pragma once
// Architecture description: the fields of tests/data/reference/README.md ("Config fields") plus
// preprocessing and labels. Registered variants are ModelConfig values; JSON files build custom ones.
// Which fields a family reads, and everything else family-specific, is decided by the family's
// traits (model/family.h).
#include "model/input_spec.h"

#include <string>
#include <vector>

namespace fs::model {

struct ModelConfig {
  std::string id;
  std::string family = "convmlp";  // a registered family's name (FamilyTraits::name)
  int numClasses = 1000;
  // ConvMLP / Pure-MLP
  std::vector<int> blocks, dims;
  std::vector<double> mlpRatios;
  int channels = 64;
  int nConvBlocks = 2;
  // MLP-Mixer / ResMLP
  int imgSize = 224;
  int patchSize = 16;
  int numBlocks = 12;
  int embedDim = 768;
  double tokenMlpRatio = 0.5;
  double channelMlpRatio = 4.0;
  double layerNormEps = 1e-6;
  double initValues = 1e-4;  // ResMLP LayerScale init
  // ResNet
  bool bottleneck = true;
  std::vector<int> layers;
  int width = 64;  // channels of the stem and layer1 (64 in the published variants)
  // ViT / DeiT (imgSize, patchSize, embedDim, layerNormEps above; numBlocks is the depth), Swin
  // (embedDim is C; depths and stageHeads per stage) and ConvNeXt (depths; dims above per stage)
  int numHeads = 12;            // ViT / DeiT attention heads
  std::vector<int> depths;      // Swin / ConvNeXt blocks per stage
  std::vector<int> stageHeads;  // Swin attention heads per stage
  int windowSize = 7;           // Swin
  int kernelSize = 7;           // ConvNeXt depthwise kernel
  double mlpRatio = 4.0;        // MLP hidden width = mlpRatio * dim
  bool qkvBias = true;
  bool distilled = false;       // DeiT: distillation token and head_dist
  bool layerScale = true;       // ConvNeXt: per-channel gamma (initialised to initValues)

  InputSpec input;
  std::string labels = "imagenet";  // "imagenet", "fashion-mnist", "index" or a file path
};

// Parses a JSON config (string content); `what` names its source in errors (InputError).
// Unknown families, missing or out-of-range fields (any dimension > 65,536, > 2e9 parameters)
// are refused before anything is allocated.
ModelConfig parseModelConfig(const std::string& json, const std::string& what);
ModelConfig loadModelConfigFile(const std::string& path);

// The config as JSON text (the fields parseModelConfig reads), e.g. for checkpoint metadata.
std::string modelConfigToJson(const ModelConfig& c);

// Parameter count computed from the config alone (used for the size limit and in tests): the
// family's FamilyTraits::estimateParameters (model/family.cpp).
int64_t estimateParameters(const ModelConfig& c);

}  // namespace fs::model
