#pragma once
// Reader for Python torch.save zip files (.pth, pytorch_model.bin): PyTorchStreamReader for the
// records and the restricted unpickler (model/restricted_unpickler.h) for data.pkl.
#include "model/tensor_dict.h"

#include <string>

namespace fs::model {

// Returns every tensor reachable in the pickled object, keyed by its dotted path
// ("model.stem.proj.weight" for {'model': {...}}). Unwrapping is done by checkpoint.h.
TensorDict readTorchZip(const std::string& path);

}  // namespace fs::model
