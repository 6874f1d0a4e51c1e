#pragma once
// Locating the read-only resources (labels, samples, demo weights): $FEATURESCOPE_RESOURCES, then
// <exe>/../share/featurescope (installed), then the source tree's resources/ (build tree).
#include "model/model_config.h"

#include <string>
#include <vector>

namespace fs::analysis {

std::string resourceDir();

// Class names for a model: 'imagenet' / 'fashion-mnist' (bundled), 'index' ("class 17"), or a
// text file with one label per line. The count must equal config.numClasses (InputError).
std::vector<std::string> loadLabels(const fs::model::ModelConfig& config);

// The bundled demo, one definition for the desktop app and `featurescope-cli demo`: three models
// trained on Fashion-MNIST (resources/models) on the first Fashion-MNIST sample by name, and, to
// show full-size architectures, a photo through three ImageNet-size models that ship no trained
// weights (their predictions are meaningless and are labelled so).
const std::vector<std::string>& demoModelIds();           // convmlp_fmnist, resnet_fmnist, mixer_fmnist
std::string demoSampleImage();                             // <resources>/samples/fmnist_*.png, first by name
const std::vector<std::string>& untrainedDemoModelIds();  // convmlp_s, resnet50, mixer_b16
std::string demoPhoto();                                   // <resources>/samples/chelsea.png

}  // namespace fs::analysis
