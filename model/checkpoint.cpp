#include "model/checkpoint.h"

#include "model/errors.h"
#include "model/family.h"
#include "model/safetensors.h"
#include "model/torch_zip_reader.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <fstream>
#include <set>
#include <sstream>
#include <unordered_map>

namespace fs::model {
namespace {

constexpr uint64_t kMaxSafetensorsHeader = 100'000'000;
constexpr size_t kMaxListed = 10;
constexpr char kNumBatchesTracked[] = "num_batches_tracked";

enum class Container { Safetensors, TorchZip, Unknown };

bool startsWith(const std::string& text, const std::string& prefix) { return text.rfind(prefix, 0) == 0; }

bool endsWith(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Looks at the first bytes only (Netron's match() before open()).
Container detect(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open the file");
  unsigned char head[9] = {};
  in.read(reinterpret_cast<char*>(head), sizeof(head));
  const size_t got = static_cast<size_t>(in.gcount());
  const std::string prefix(reinterpret_cast<const char*>(head), got);
  if (startsWith(prefix, std::string("PK\x03\x04", 4)) || startsWith(prefix, std::string("\x80\x02\x8a\x0a", 4))) {
    return Container::TorchZip;  // the zip reader refuses the legacy format with its own message
  }
  uint64_t headerSize = 0;
  for (int i = 7; i >= 0; --i) headerSize = (headerSize << 8) | head[i];
  if ((got == 9 && head[8] == '{' && headerSize <= kMaxSafetensorsHeader) || endsWith(path, ".safetensors")) {
    return Container::Safetensors;
  }
  return Container::Unknown;
}

// A zip whose first entry is a .npy file: NumPy's .npz (e.g. Google's JAX ViT release).
bool isNumpyArchive(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  unsigned char header[30] = {};
  in.read(reinterpret_cast<char*>(header), sizeof(header));
  if (in.gcount() != sizeof(header)) return false;
  const size_t nameLength = header[26] | (header[27] << 8);
  std::string name(nameLength, '\0');
  in.read(name.data(), static_cast<std::streamsize>(nameLength));
  return static_cast<size_t>(in.gcount()) == nameLength && endsWith(name, ".npy");
}

// {'model'|'state_dict'|'state_dict_ema': {...}} -> the inner dict, preferred in that order.
void unwrap(TensorDict& dict) {
  for (const std::string prefix : {"model.", "state_dict.", "state_dict_ema."}) {
    bool found = false;
    for (const auto& entry : dict.tensors) found = found || startsWith(entry.first, prefix);
    if (!found) continue;
    std::vector<std::pair<std::string, at::Tensor>> inner;
    for (auto& [name, tensor] : dict.tensors) {
      if (startsWith(name, prefix)) inner.emplace_back(name.substr(prefix.size()), tensor);
    }
    dict.tensors = std::move(inner);
    return;
  }
}

void replaceAll(std::string& text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
}

// Facebook's ResMLP: Affine norms (.alpha) with patch_embed. or gamma_1 (ViT and Swin share
// patch_embed. but have no Affine norms).
bool hasFacebookResMlpNames(const TensorDict& dict) {
  bool resMlpName = false, affine = false;
  for (const auto& entry : dict.tensors) {
    resMlpName = resMlpName || startsWith(entry.first, "patch_embed.") || entry.first.find(".gamma_1") != std::string::npos;
    affine = affine || endsWith(entry.first, ".alpha");
  }
  return resMlpName && affine;
}

// Facebook's original ResMLP names -> timm names; Affine alpha/beta [dim] -> [1,1,dim].
void renameFacebookResMlp(std::string& name, at::Tensor& tensor) {
  if (startsWith(name, "patch_embed.")) name = "stem." + name.substr(12);
  replaceAll(name, ".attn.", ".linear_tokens.");
  replaceAll(name, ".mlp.", ".mlp_channels.");
  replaceAll(name, "gamma_1", "ls1");
  replaceAll(name, "gamma_2", "ls2");
  if ((endsWith(name, ".alpha") || endsWith(name, ".beta")) && tensor.dim() == 1) {
    tensor = tensor.reshape({1, 1, tensor.size(0)});
  }
}

void normalizeNames(TensorDict& dict, const std::string& path) {
  const bool facebook = hasFacebookResMlpNames(dict);
  for (auto& [name, tensor] : dict.tensors) {
    if (startsWith(name, "module.")) name = name.substr(7);
    if (facebook) renameFacebookResMlp(name, tensor);
  }
  // Another library's layout of a family (torchvision's names, original releases): the first
  // family that recognises it renames it.
  for (const auto& family : families())
    if (family.adoptForeignNames && family.adoptForeignNames(dict)) break;
  std::set<std::string> seen;
  for (auto& [name, tensor] : dict.tensors) {
    tensor = tensor.is_floating_point() ? tensor.to(at::kFloat).contiguous() : tensor.contiguous();
    if (!seen.insert(name).second) throw InputError(path + ": two tensors map to the name '" + name + "'");
  }
}

std::string shapeText(at::IntArrayRef sizes) {
  std::ostringstream out;
  out << '[';
  for (size_t d = 0; d < sizes.size(); ++d) out << (d ? "," : "") << sizes[d];
  out << ']';
  return out.str();
}

std::string listNames(const std::vector<std::string>& names) {
  if (names.empty()) return "";
  std::string out = " (";
  for (size_t k = 0; k < names.size() && k < kMaxListed; ++k) out += (k ? ", " : "") + names[k];
  return out + (names.size() > kMaxListed ? ", ...)" : ")");
}

// Parameters and buffers of the module by state_dict key.
std::vector<std::pair<std::string, at::Tensor>> modelState(const torch::nn::Module& module) {
  std::vector<std::pair<std::string, at::Tensor>> state;
  for (const auto& item : module.named_parameters(true)) {
    if (item.value().defined()) state.emplace_back(item.key(), item.value());
  }
  for (const auto& item : module.named_buffers(true)) {
    if (item.value().defined()) state.emplace_back(item.key(), item.value());
  }
  return state;
}

std::unordered_map<std::string, const at::Tensor*> indexByName(const TensorDict& dict) {
  std::unordered_map<std::string, const at::Tensor*> index;
  for (const auto& [name, tensor] : dict.tensors) index.emplace(name, &tensor);
  return index;
}

}  // namespace

TensorDict readCheckpoint(const std::string& path) {
  const Container container = detect(path);
  if (container == Container::Unknown) {
    throw InputError(path + ": not a safetensors or PyTorch checkpoint");
  }
  if (container == Container::TorchZip && isNumpyArchive(path)) {
    throw InputError(path + ": a NumPy .npz archive (such as Google's JAX ViT weights), not a PyTorch checkpoint; "
                            "use the timm hub's model.safetensors of the same model");
  }
  TensorDict dict = container == Container::Safetensors ? readSafetensors(path) : readTorchZip(path);
  unwrap(dict);
  normalizeNames(dict, path);
  if (dict.tensors.empty()) throw InputError(path + ": the checkpoint contains no tensors");
  return dict;
}

std::string LoadReport::summary() const {
  if (ok()) return "all " + std::to_string(loaded) + " tensors match the model";
  return std::to_string(missing.size()) + " missing" + listNames(missing) + ", " +
         std::to_string(unexpected.size()) + " unexpected" + listNames(unexpected) + ", " +
         std::to_string(mismatched.size()) + " shape mismatches" + listNames(mismatched);
}

LoadReport checkState(const torch::nn::Module& module, const TensorDict& dict) {
  const auto file = indexByName(dict);
  LoadReport report;
  std::set<std::string> known;
  for (const auto& [name, target] : modelState(module)) {
    known.insert(name);
    const auto found = file.find(name);
    if (found == file.end()) {
      if (!endsWith(name, kNumBatchesTracked)) report.missing.push_back(name);
    } else if (found->second->sizes() != target.sizes()) {
      report.mismatched.push_back(name + ": file " + shapeText(found->second->sizes()) + " vs model " +
                                  shapeText(target.sizes()));
    } else {
      ++report.loaded;
    }
  }
  for (const auto& [name, tensor] : dict.tensors) {
    if (known.count(name) == 0 && !endsWith(name, kNumBatchesTracked)) report.unexpected.push_back(name);
  }
  return report;
}

LoadReport loadState(torch::nn::Module& module, const TensorDict& dict, const std::string& path) {
  const LoadReport report = checkState(module, dict);
  if (!report.ok()) throw InputError(path + ": does not match the model: " + report.summary());
  const auto file = indexByName(dict);
  c10::NoGradGuard noGrad;
  for (auto& [name, target] : modelState(module)) {
    const auto found = file.find(name);
    if (found != file.end()) target.copy_(*found->second);
  }
  return report;
}

}  // namespace fs::model
