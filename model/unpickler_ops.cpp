// The restricted unpickler's opcodes (pickle protocol 2, the subset torch.save writes): each
// checks its operands and the limits (model/unpickler_machine.h) and fails with the file named.
#include "model/errors.h"
#include "model/tensor_dict.h"
#include "model/unpickler_machine.h"

#include <ATen/ATen.h>

#include <cstring>

namespace fs::model::unpickler {

void Unpickler::opGlobal() {
  const std::string module = readLine();
  const std::string name = module + "." + readLine();
  if (!isAllowedGlobal(name)) fail("refuses global '" + printable(name) + "'");
  PickleValuePtr value = make(Kind::Global);
  value->s = name;
  push(std::move(value));
}

void Unpickler::opPut(uint32_t index) {
  if (memo_.size() >= kMaxMemo && memo_.count(index) == 0) fail("memo too large");
  memo_[index] = top();
}

void Unpickler::opGet(uint32_t index) {
  const auto found = memo_.find(index);
  if (found == memo_.end()) fail("memo index " + std::to_string(index) + " missing");
  push(found->second);
}

void Unpickler::opMark() {
  if (marks_.size() >= kMaxNesting) fail("nesting deeper than 1000");
  marks_.push_back(stack_.size());
}

void Unpickler::opString(size_t length) {
  if (length > kMaxString) fail("string longer than 16 MB");
  const uint8_t* bytes = take(length);
  PickleValuePtr value = make(Kind::String);
  value->s.assign(reinterpret_cast<const char*>(bytes), length);
  push(std::move(value));
}

void Unpickler::opInt(int64_t value) {
  PickleValuePtr node = make(Kind::Int);
  node->i = value;
  push(std::move(node));
}

void Unpickler::opBinInt() { opInt(static_cast<int32_t>(readU32())); }

void Unpickler::opBinInt2() {
  const uint8_t* b = take(2);
  opInt(b[0] | b[1] << 8);
}

void Unpickler::opLong1() {
  const size_t n = readU8();
  if (n > 8) fail("LONG1 integer wider than 64 bits");
  const uint8_t* b = take(n);
  uint64_t value = 0;
  for (size_t k = n; k > 0; --k) value = (value << 8) | b[k - 1];
  if (n > 0 && n < 8 && (b[n - 1] & 0x80)) value |= ~uint64_t{0} << (8 * n);
  opInt(static_cast<int64_t>(value));
}

void Unpickler::opBinFloat() {
  const uint8_t* b = take(8);
  uint64_t bits = 0;
  for (size_t k = 0; k < 8; ++k) bits = (bits << 8) | b[k];
  PickleValuePtr node = make(Kind::Float);
  std::memcpy(&node->f, &bits, sizeof(double));
  push(std::move(node));
}

void Unpickler::opBool(bool value) {
  PickleValuePtr node = make(Kind::Bool);
  node->b = value;
  push(std::move(node));
}

void Unpickler::opTupleN(size_t n) {
  PickleValuePtr tuple = make(Kind::Tuple);
  tuple->items.resize(n);
  for (size_t k = n; k > 0; --k) tuple->items[k - 1] = pop();
  push(std::move(tuple));
}

void Unpickler::opTuple() {
  PickleValuePtr tuple = make(Kind::Tuple);
  tuple->items = popToMark();
  push(std::move(tuple));
}

void Unpickler::opAppend() {
  PickleValuePtr value = pop();
  containerOnTop(Kind::List)->items.push_back(std::move(value));
}

void Unpickler::opAppends() {
  std::vector<PickleValuePtr> values = popToMark();
  auto& items = containerOnTop(Kind::List)->items;
  items.insert(items.end(), values.begin(), values.end());
}

void Unpickler::opSetItem() {
  PickleValuePtr value = pop();
  PickleValuePtr key = pop();
  containerOnTop(Kind::Dict)->dict.emplace_back(std::move(key), std::move(value));
}

void Unpickler::opSetItems() {
  std::vector<PickleValuePtr> values = popToMark();
  if (values.size() % 2 != 0) fail("SETITEMS with an odd number of items");
  auto& dict = containerOnTop(Kind::Dict)->dict;
  for (size_t k = 0; k < values.size(); k += 2) dict.emplace_back(values[k], values[k + 1]);
}

void Unpickler::opReduce() {
  PickleValuePtr args = pop();
  PickleValuePtr callable = pop();
  if (args->kind != Kind::Tuple || callable->kind != Kind::Global) fail("REDUCE needs a global and a tuple");
  if (callable->s == kOrderedDict && args->items.empty()) {
    push(make(Kind::Dict));
  } else if (callable->s == kRebuildTensor) {
    push(rebuildTensor(args->items));
  } else if (callable->s == kRebuildParameter && !args->items.empty() &&
             args->items[0]->kind == Kind::Tensor) {
    push(args->items[0]);
  } else {
    fail("cannot call '" + callable->s + "' with these arguments");
  }
}

// Persistent id ('storage', StorageType, key, location, numel); every location maps to CPU.
void Unpickler::opBinPersId() {
  PickleValuePtr pid = pop();
  const auto& p = pid->items;
  if (pid->kind != Kind::Tuple || p.size() != 5 || p[0]->kind != Kind::String || p[0]->s != "storage" ||
      p[1]->kind != Kind::Global || storageTypes().count(p[1]->s) == 0 || p[2]->kind != Kind::String ||
      !isStorageKey(p[2]->s) || p[3]->kind != Kind::String || p[4]->kind != Kind::Int || p[4]->i < 0) {
    fail("persistent id is not ('storage', type, key, location, numel)");
  }
  const at::ScalarType type = storageTypes().at(p[1]->s);
  auto& cached = storages_[p[2]->s];
  if (!cached) {
    cached = make(Kind::Storage);
    cached->s = p[2]->s;
    at::Tensor flat = loader_(p[2]->s, type, p[4]->i);
    if (!flat.defined() || flat.dim() != 1 || flat.numel() < p[4]->i) {
      fail("storage '" + p[2]->s + "' could not be loaded");
    }
    const bool owned = flat.is_contiguous() && flat.storage_offset() == 0;
    cached->tensor = owned ? flat : flat.clone(at::MemoryFormat::Contiguous);
  }
  if (cached->tensor.scalar_type() != type) fail("storage '" + p[2]->s + "' used with two types");
  push(cached);
}

void Unpickler::opBuild() {
  pop();  // the state (_metadata, backward hooks, ...) carries no weights
  const Kind kind = top()->kind;
  if (kind != Kind::Tensor && kind != Kind::Dict) fail("BUILD on something other than a tensor or dict");
}

}  // namespace fs::model::unpickler
