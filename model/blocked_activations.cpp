#include "model/blocked_activations.h"

#include "model/environment.h"
#include "model/kernel_policy.h"
#include "model/onednn_support.h"

#include <ATen/ATen.h>

#include <atomic>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <tuple>

namespace fs::model {
using namespace onednn;

at::Tensor toBlocked(const at::Tensor& x) {
  const int64_t block = channelBlock();
  TORCH_CHECK(x.dim() == 4 && x.size(1) % block == 0, "toBlocked: [N,C,H,W] with C a multiple of ", block,
              " expected, got ", x.sizes());
  const int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  return x.view({n, c / block, block, h, w}).permute({0, 1, 3, 4, 2}).contiguous();
}

at::Tensor fromBlocked(const at::Tensor& x) {
  TORCH_CHECK(isBlocked(x) && x.size(4) == channelBlock(), "fromBlocked: [N,C/b,H,W,b] expected, got ", x.sizes());
  const int64_t n = x.size(0), c = x.size(1) * x.size(4), h = x.size(2), w = x.size(3);
  // [N,H,W,C/b,b] in memory is [N,H,W,C]: channels-last.
  return x.permute({0, 2, 3, 1, 4}).contiguous().view({n, h, w, c}).permute({0, 3, 1, 2});
}

at::Tensor blockedSpatialView(const at::Tensor& x) {
  TORCH_CHECK(isBlocked(x) && x.is_contiguous(), "blockedSpatialView: a contiguous blocked tensor expected");
  return x.view({x.size(0) * x.size(1), x.size(2), x.size(3), x.size(4)}).permute({0, 3, 1, 2});
}

at::Tensor fromSpatialView(const at::Tensor& v, int64_t batch) {
  const at::Tensor t = v.permute({0, 2, 3, 1}).contiguous();
  return t.view({batch, t.size(0) / batch, t.size(1), t.size(2), t.size(3)});
}

namespace {
struct PoolEntry {
  std::tuple<int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int> key;  // N C H W k s p tag
  bool aten = false;  // oneDNN offered a reference kernel or none
  int64_t* uses = nullptr;
  dnnl::pooling_forward primitive;
  dnnl::memory::desc src, dst;
  Dims dstDims;
};

PoolEntry buildPool(int64_t n, int64_t c, int64_t h, int64_t w, int64_t k, int64_t s, int64_t p, Tag tag) {
  PoolEntry e;
  e.key = {n, c, h, w, k, s, p, int(tag)};
  e.dstDims = {n, c, (h + 2 * p - k) / s + 1, (w + 2 * p - k) / s + 1};
  e.src = dnnl::memory::desc({n, c, h, w}, kF32, tag);
  e.dst = dnnl::memory::desc(e.dstDims, kF32, tag);
  try {
    const dnnl::pooling_forward::desc d(dnnl::prop_kind::forward_inference, dnnl::algorithm::pooling_max, e.src,
                                        e.dst, {s, s}, {k, k}, {p, p}, {p, p});
    const dnnl::pooling_forward::primitive_desc pd(d, engine());
    const std::string impl = pd.impl_info_str();
    if (isSlowImplementation(impl)) {
      e.aten = true;
      return e;
    }
    e.uses = kernelCounter("pooling", impl + (tag == Tag::nhwc || tag == Tag::nchw ? "" : " [blocked]"));
    e.primitive = dnnl::pooling_forward(pd);
  } catch (const dnnl::error&) {
    e.aten = true;
  }
  return e;
}
}  // namespace

at::Tensor maxPool2dInference(const at::Tensor& x, int64_t kernel, int64_t stride, int64_t padding) {
  if (x.scalar_type() != at::kFloat || kernel < 1 || stride < 1 || padding < 0 || 2 * padding > kernel) return {};
  Tag tag = Tag::undef;
  at::MemoryFormat format = at::MemoryFormat::Contiguous;
  if (isBlocked(x)) {
    if (!x.is_contiguous() || x.size(4) != channelBlock()) return {};
    tag = channelBlock() == 16 ? Tag::nChw16c : Tag::nChw8c;
  } else if (x.dim() == 4 && x.is_contiguous(at::MemoryFormat::ChannelsLast)) {
    tag = Tag::nhwc, format = at::MemoryFormat::ChannelsLast;
  } else if (x.dim() == 4 && x.is_contiguous()) {
    tag = Tag::nchw;
  } else {
    return {};
  }
  const int64_t n = x.size(0), c = tag == Tag::nhwc || tag == Tag::nchw ? x.size(1) : x.size(1) * x.size(4);
  const int64_t h = x.size(2), w = x.size(3);
  if (h + 2 * padding < kernel || w + 2 * padding < kernel || x.numel() == 0) return {};
  // Primitives per thread (their creation takes microseconds): no lock, and a thread's cache serves
  // the shapes its jobs repeat.
  thread_local PrimitiveCache<PoolEntry> cache;
  const PoolEntry& e = cache.get({n, c, h, w, kernel, stride, padding, int(tag)},
                                 [&] { return buildPool(n, c, h, w, kernel, stride, padding, tag); });
  if (e.aten) return {};
  countKernel(e.uses);
  const Dims& d = e.dstDims;
  at::Tensor y = tag == Tag::nhwc || tag == Tag::nchw
                     ? at::empty(d, x.options().memory_format(format))
                     : at::empty({d[0], d[1] / channelBlock(), d[2], d[3], channelBlock()}, x.options());
  syncThreads();
  dnnl::memory src = wrap(e.src, x), dst = wrap(e.dst, y);
  e.primitive.execute(threadStream(), {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}});
  threadStream().wait();
  return y;
}

namespace {
ConvLayout layoutFromEnvironment() {
  const std::string v = environmentChoice("FEATURESCOPE_CONV_LAYOUT", {"blocked", "nhwc"});
  if (v == "blocked") return ConvLayout::Blocked;
  if (v == "nhwc") return ConvLayout::ChannelsLast;
  return ConvLayout::Measured;
}
std::atomic<ConvLayout>& convLayout() {
  static std::atomic<ConvLayout> layout{layoutFromEnvironment()};
  return layout;
}
}  // namespace

void setConvLayout(ConvLayout layout) { convLayout().store(layout); }

bool blockedConvolutions(int64_t batch) {
  switch (convLayout().load()) {
    case ConvLayout::Blocked: return true;
    case ConvLayout::ChannelsLast: return false;
    case ConvLayout::Measured: break;
  }
  return batch >= 2;
}

int64_t channelBlock() {
  static const int64_t block = onednnHasAvx512() ? 16 : 8;
  return block;
}

}  // namespace fs::model
