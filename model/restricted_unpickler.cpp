#include "model/restricted_unpickler.h"

#include "model/unpickler_machine.h"

#include "model/errors.h"
#include "model/tensor_dict.h"

#include <ATen/ATen.h>

#include <array>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <map>
#include <unordered_map>

namespace fs::model {
namespace unpickler {
const std::map<std::string, at::ScalarType>& storageTypes() {
  static const std::map<std::string, at::ScalarType> types = {
      {"torch.FloatStorage", at::kFloat}, {"torch.HalfStorage", at::kHalf},
      {"torch.BFloat16Storage", at::kBFloat16}, {"torch.DoubleStorage", at::kDouble},
      {"torch.LongStorage", at::kLong}, {"torch.IntStorage", at::kInt},
      {"torch.ShortStorage", at::kShort}, {"torch.CharStorage", at::kChar},
      {"torch.ByteStorage", at::kByte}, {"torch.BoolStorage", at::kBool}};
  return types;
}


bool isAllowedGlobal(const std::string& name) {
  return name == kOrderedDict || name == kRebuildTensor || name == kRebuildParameter ||
         storageTypes().count(name) > 0;
}

// Storage keys name zip records ("data/<key>"): torch writes small decimal numbers.
bool isStorageKey(const std::string& key) {
  if (key.empty() || key.size() > kMaxLine) return false;
  for (char c : key) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') return false;
  }
  return true;
}

std::string hex(uint8_t byte) {
  char text[8];
  std::snprintf(text, sizeof(text), "0x%02x", byte);
  return text;
}

std::string printable(const std::string& text) {
  std::string out;
  for (char c : text.substr(0, 80)) out += (c >= 32 && c < 127) ? c : '?';
  return out;
}

// Interprets one pickle. Every node it creates is kept in arena_ so that the destructor can take
// cyclic or very deep garbage apart without recursion; only the validated result survives intact.

const std::array<Unpickler::Handler, 256>& Unpickler::handlers() {
  static const std::array<Handler, 256> table = [] {
    std::array<Handler, 256> t{};
    t[0x80] = &Unpickler::opProto;       t['c'] = &Unpickler::opGlobal;
    t['q'] = &Unpickler::opBinPut;       t['r'] = &Unpickler::opLongBinPut;
    t['h'] = &Unpickler::opBinGet;       t['j'] = &Unpickler::opLongBinGet;
    t['('] = &Unpickler::opMark;         t[')'] = &Unpickler::opEmptyTuple;
    t['}'] = &Unpickler::opEmptyDict;    t[']'] = &Unpickler::opEmptyList;
    t['X'] = &Unpickler::opBinUnicode;   t[0x8c] = &Unpickler::opShortBinUnicode;
    t['J'] = &Unpickler::opBinInt;       t['K'] = &Unpickler::opBinInt1;
    t['M'] = &Unpickler::opBinInt2;      t[0x8a] = &Unpickler::opLong1;
    t['G'] = &Unpickler::opBinFloat;     t['N'] = &Unpickler::opNone;
    t[0x88] = &Unpickler::opNewTrue;     t[0x89] = &Unpickler::opNewFalse;
    t['t'] = &Unpickler::opTuple;        t[0x85] = &Unpickler::opTuple1;
    t[0x86] = &Unpickler::opTuple2;      t[0x87] = &Unpickler::opTuple3;
    t['a'] = &Unpickler::opAppend;       t['e'] = &Unpickler::opAppends;
    t['R'] = &Unpickler::opReduce;       t['Q'] = &Unpickler::opBinPersId;
    t['s'] = &Unpickler::opSetItem;      t['u'] = &Unpickler::opSetItems;
    t['b'] = &Unpickler::opBuild;
    return t;
  }();
  return table;
}

Unpickler::~Unpickler() {
  stack_.clear();
  memo_.clear();
  storages_.clear();
  for (const PickleValuePtr& node : arena_) {
    if (!succeeded_ || heights_.count(node.get()) == 0) {
      node->items.clear();
      node->dict.clear();
    }
  }
}

PickleValuePtr Unpickler::run() {
  for (uint64_t ops = 0; pos_ < size_; ++ops) {
    if (ops > kMaxOps) fail("too many operations");
    const uint8_t op = readU8();
    if (op == '.') {
      PickleValuePtr result = pop();
      validate(result.get(), 1);
      succeeded_ = true;
      return result;
    }
    const Handler handler = handlers()[op];
    if (handler == nullptr) fail("unsupported opcode " + hex(op));
    (this->*handler)();
  }
  fail("truncated: no STOP opcode");
}

void Unpickler::fail(const std::string& reason) const {
  throw InputError(what_ + ": unsafe or corrupt pickle data (byte " + std::to_string(pos_) + "): " + reason);
}

const uint8_t* Unpickler::take(size_t n) {
  if (n > size_ - pos_) fail("truncated input");
  const uint8_t* out = data_ + pos_;
  pos_ += n;
  return out;
}

uint32_t Unpickler::readU32() {
  const uint8_t* b = take(4);
  return uint32_t{b[0]} | uint32_t{b[1]} << 8 | uint32_t{b[2]} << 16 | uint32_t{b[3]} << 24;
}

std::string Unpickler::readLine() {
  std::string line;
  for (char c = static_cast<char>(readU8()); c != '\n'; c = static_cast<char>(readU8())) {
    if (line.size() >= kMaxLine) fail("GLOBAL name too long");
    line += c;
  }
  return line;
}

PickleValuePtr Unpickler::make(Kind kind) {
  if (arena_.size() >= kMaxNodes) fail("too many objects");
  arena_.push_back(std::make_shared<PickleValue>());
  arena_.back()->kind = kind;
  return arena_.back();
}

void Unpickler::push(PickleValuePtr value) {
  if (stack_.size() >= kMaxStack) fail("stack too large");
  stack_.push_back(std::move(value));
}

PickleValuePtr Unpickler::pop() {
  if (stack_.empty() || (!marks_.empty() && stack_.size() <= marks_.back())) fail("stack underflow");
  PickleValuePtr value = std::move(stack_.back());
  stack_.pop_back();
  return value;
}

PickleValuePtr& Unpickler::top() {
  if (stack_.empty() || (!marks_.empty() && stack_.size() <= marks_.back())) fail("stack underflow");
  return stack_.back();
}

std::vector<PickleValuePtr> Unpickler::popToMark() {
  if (marks_.empty()) fail("no MARK on the stack");
  const size_t mark = marks_.back();
  marks_.pop_back();
  std::vector<PickleValuePtr> items(std::make_move_iterator(stack_.begin() + static_cast<long>(mark)),
                                    std::make_move_iterator(stack_.end()));
  stack_.resize(mark);
  return items;
}

PickleValuePtr& Unpickler::containerOnTop(Kind kind) {
  PickleValuePtr& container = top();
  if (container->kind != kind) fail(kind == Kind::List ? "APPEND to a non-list" : "SETITEM on a non-dict");
  return container;
}

int64_t Unpickler::intArg(const PickleValuePtr& value, const char* what) const {
  if (value->kind != Kind::Int || value->i < 0) fail(std::string("tensor ") + what + " is not a non-negative int");
  return value->i;
}

std::vector<int64_t> Unpickler::intTuple(const PickleValuePtr& value, const char* what) const {
  if (value->kind != Kind::Tuple || value->items.size() > kMaxRank) {
    fail(std::string("tensor ") + what + " is not a tuple of at most 32 ints");
  }
  std::vector<int64_t> out;
  for (const PickleValuePtr& item : value->items) out.push_back(intArg(item, what));
  return out;
}

// _rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, metadata]): checks
// that the view stays inside the storage before torch sees it.
PickleValuePtr Unpickler::rebuildTensor(const std::vector<PickleValuePtr>& args) {
  if ((args.size() != 6 && args.size() != 7) || args[0]->kind != Kind::Storage) {
    fail("_rebuild_tensor_v2 expects (storage, offset, size, stride, requires_grad, hooks)");
  }
  const at::Tensor& storage = args[0]->tensor;
  const int64_t offset = intArg(args[1], "offset");
  const std::vector<int64_t> sizes = intTuple(args[2], "size");
  const std::vector<int64_t> strides = intTuple(args[3], "stride");
  if (sizes.size() != strides.size()) fail("tensor size and stride have different lengths");
  // normalizeNames makes every tensor contiguous: that layout must exist even for empty tensors.
  if (!contiguousStridesFit(sizes)) fail("tensor size overflows");
  uint64_t numel = 1;
  uint64_t last = static_cast<uint64_t>(offset);
  for (size_t d = 0; d < sizes.size(); ++d) {
    uint64_t span = 0;
    if (__builtin_mul_overflow(numel, static_cast<uint64_t>(sizes[d]), &numel) ||
        (sizes[d] > 0 && (__builtin_mul_overflow(static_cast<uint64_t>(sizes[d] - 1),
                                                 static_cast<uint64_t>(strides[d]), &span) ||
                          __builtin_add_overflow(last, span, &last)))) {
      fail("tensor size overflows");
    }
  }
  const uint64_t available = static_cast<uint64_t>(storage.numel());
  if (numel > kMaxTensorBytes / storage.element_size() ||
      (numel > 0 ? last >= available : static_cast<uint64_t>(offset) > available)) {
    fail("tensor view lies outside its storage");
  }
  PickleValuePtr value = make(Kind::Tensor);
  value->tensor = storage.as_strided(sizes, strides, offset);
  return value;
}

// Depth-first check of the result: no cycles, nesting <= kMaxNesting. Returns the node's height.
size_t Unpickler::validate(const PickleValue* node, size_t depth) {
  if (depth > kMaxNesting) fail("nesting deeper than 1000");
  const auto found = heights_.find(node);
  if (found != heights_.end()) {
    if (found->second == 0) fail("reference cycle");
    if (depth + found->second - 1 > kMaxNesting) fail("nesting deeper than 1000");
    return found->second;
  }
  heights_[node] = 0;
  size_t height = 1;
  for (const PickleValuePtr& item : node->items) height = std::max(height, 1 + validate(item.get(), depth + 1));
  for (const auto& [key, value] : node->dict) {
    height = std::max(height, 1 + validate(key.get(), depth + 1));
    height = std::max(height, 1 + validate(value.get(), depth + 1));
  }
  heights_[node] = height;
  return height;
}

}  // namespace unpickler

using unpickler::Unpickler;

PickleValuePtr unpickleRestricted(const uint8_t* data, size_t size, const StorageLoader& loader,
                                  const std::string& what) {
  Unpickler unpickler(data, size, loader, what);
  return unpickler.run();
}

}  // namespace fs::model
