#pragma once
// safetensors reader/writer. The reader validates the whole header before touching torch
// (see MODELS.md "Checkpoint containers"); every failure is an InputError naming the file.
#include "model/tensor_dict.h"

#include <string>

namespace fs::model {

// Reads F32/F16/BF16/F64/I64 tensors; floating types are converted to float32.
TensorDict readSafetensors(const std::string& path);

// Writes float32/int64 tensors (contiguous, little-endian) atomically: temp file + rename.
void writeSafetensors(const std::string& path, const TensorDict& dict);

}  // namespace fs::model
