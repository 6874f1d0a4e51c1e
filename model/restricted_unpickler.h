#pragma once
// A small pickle (protocol 2) interpreter that only builds data: dicts, lists, tuples, scalars,
// strings and tensors. GLOBAL is allow-listed (collections.OrderedDict, torch._utils._rebuild_*,
// torch.*Storage); any other global, unknown opcode, excessive nesting or size is an InputError.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace fs::model {

struct PickleValue;
using PickleValuePtr = std::shared_ptr<PickleValue>;

struct PickleValue {
  enum class Kind { None, Bool, Int, Float, String, Tuple, List, Dict, Tensor, Global, Storage };
  Kind kind = Kind::None;
  bool b = false;
  int64_t i = 0;
  double f = 0.0;
  std::string s;                                          // String, Global ("module.name")
  std::vector<PickleValuePtr> items;                      // Tuple, List
  std::vector<std::pair<PickleValuePtr, PickleValuePtr>> dict;  // Dict (insertion order)
  at::Tensor tensor;                                      // Tensor, Storage (flat 1-D)
};

// Loads a storage record: (record key, scalar type, number of elements) -> flat CPU tensor.
using StorageLoader = std::function<at::Tensor(const std::string& key, at::ScalarType, int64_t numel)>;

// `what` names the file for error messages.
PickleValuePtr unpickleRestricted(const uint8_t* data, size_t size, const StorageLoader& loader,
                                  const std::string& what);

}  // namespace fs::model
