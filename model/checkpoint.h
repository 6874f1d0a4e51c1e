#pragma once
// Loading weights into a model: read any supported container, unwrap/rename, check strictly,
// then copy. A file that does not match the architecture never loads partially.
#include "model/tensor_dict.h"

#include <torch/nn/module.h>

#include <string>
#include <vector>

namespace fs::model {

// Detects the container by content (safetensors, torch zip, legacy pickle -> refused), unwraps
// {'model'|'state_dict'|'state_dict_ema': ...}, strips "module.", remaps Facebook ResMLP names
// and converts floating tensors to float32.
TensorDict readCheckpoint(const std::string& path);

struct LoadReport {
  std::vector<std::string> missing;      // in the model, not in the file
  std::vector<std::string> unexpected;   // in the file, not in the model
  std::vector<std::string> mismatched;   // "name: file [a,b] vs model [c,d]"
  int loaded = 0;
  bool ok() const { return missing.empty() && unexpected.empty() && mismatched.empty(); }
  std::string summary() const;           // human readable, names the keys
};

// Compares names/shapes of parameters and buffers (num_batches_tracked optional).
LoadReport checkState(const torch::nn::Module& module, const TensorDict& dict);

// checkState, then copies under NoGradGuard. Throws InputError (with the report and `path`)
// if anything is missing, unexpected or mismatched; the module is untouched in that case.
LoadReport loadState(torch::nn::Module& module, const TensorDict& dict, const std::string& path);

}  // namespace fs::model
