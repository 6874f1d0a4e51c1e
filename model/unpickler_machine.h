#pragma once
// Private to model/restricted_unpickler*.cpp: the restricted unpickler's machine (limits, the
// allow-list helpers and the opcode interpreter). The public interface is restricted_unpickler.h.
#include "model/restricted_unpickler.h"

#include <ATen/core/Tensor.h>

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

namespace fs::model::unpickler {

using Kind = PickleValue::Kind;
constexpr size_t kMaxNesting = 1000;  // MARK stack depth and container nesting
constexpr size_t kMaxStack = size_t{1} << 20;
constexpr size_t kMaxMemo = size_t{1} << 21;
constexpr size_t kMaxNodes = size_t{1} << 21;
constexpr uint64_t kMaxOps = uint64_t{1} << 26;
constexpr size_t kMaxString = size_t{16} << 20;
constexpr size_t kMaxLine = 256;
constexpr size_t kMaxRank = 32;
constexpr uint64_t kMaxTensorBytes = uint64_t{1} << 40;
constexpr char kOrderedDict[] = "collections.OrderedDict";
constexpr char kRebuildTensor[] = "torch._utils._rebuild_tensor_v2";
constexpr char kRebuildParameter[] = "torch._utils._rebuild_parameter";

const std::map<std::string, at::ScalarType>& storageTypes();
bool isAllowedGlobal(const std::string& name);
bool isStorageKey(const std::string& key);
std::string hex(uint8_t byte);
std::string printable(const std::string& text);

class Unpickler {
 public:
  Unpickler(const uint8_t* data, size_t size, const StorageLoader& loader, const std::string& what)
      : data_(data), size_(size), loader_(loader), what_(what) {}
  ~Unpickler();
  PickleValuePtr run();

 private:
  using Handler = void (Unpickler::*)();
  static const std::array<Handler, 256>& handlers();

  [[noreturn]] void fail(const std::string& reason) const;
  const uint8_t* take(size_t n);
  uint8_t readU8() { return *take(1); }
  uint32_t readU32();
  std::string readLine();
  PickleValuePtr make(Kind kind);
  void push(PickleValuePtr value);
  PickleValuePtr pop();
  PickleValuePtr& top();
  std::vector<PickleValuePtr> popToMark();
  PickleValuePtr& containerOnTop(Kind kind);
  int64_t intArg(const PickleValuePtr& value, const char* what) const;
  std::vector<int64_t> intTuple(const PickleValuePtr& value, const char* what) const;
  PickleValuePtr rebuildTensor(const std::vector<PickleValuePtr>& args);
  size_t validate(const PickleValue* node, size_t depth);

  void opProto() { readU8(); }
  void opGlobal();
  void opPut(uint32_t index);
  void opBinPut() { opPut(readU8()); }
  void opLongBinPut() { opPut(readU32()); }
  void opGet(uint32_t index);
  void opBinGet() { opGet(readU8()); }
  void opLongBinGet() { opGet(readU32()); }
  void opMark();
  void opEmptyTuple() { push(make(Kind::Tuple)); }
  void opEmptyDict() { push(make(Kind::Dict)); }
  void opEmptyList() { push(make(Kind::List)); }
  void opString(size_t length);
  void opBinUnicode() { opString(readU32()); }
  void opShortBinUnicode() { opString(readU8()); }
  void opInt(int64_t value);
  void opBinInt();
  void opBinInt1() { opInt(readU8()); }
  void opBinInt2();
  void opLong1();
  void opBinFloat();
  void opNone() { push(make(Kind::None)); }
  void opBool(bool value);
  void opNewTrue() { opBool(true); }
  void opNewFalse() { opBool(false); }
  void opTupleN(size_t n);
  void opTuple();
  void opTuple1() { opTupleN(1); }
  void opTuple2() { opTupleN(2); }
  void opTuple3() { opTupleN(3); }
  void opAppend();
  void opAppends();
  void opReduce();
  void opBinPersId();
  void opSetItem();
  void opSetItems();
  void opBuild();

  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
  const StorageLoader& loader_;
  const std::string& what_;
  std::vector<PickleValuePtr> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint32_t, PickleValuePtr> memo_;
  std::unordered_map<std::string, PickleValuePtr> storages_;
  std::vector<PickleValuePtr> arena_;
  std::unordered_map<const PickleValue*, size_t> heights_;  // validated nodes; 0 = in progress
  bool succeeded_ = false;
};

}  // namespace fs::model::unpickler
