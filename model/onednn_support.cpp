#include "model/onednn_support.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <omp.h>

namespace fs::model::onednn {

dnnl::engine& engine() {
  static dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}

dnnl::stream& threadStream() {
  thread_local dnnl::stream s(engine());
  return s;
}

dnnl::memory wrap(const dnnl::memory::desc& d, const at::Tensor& t) {
  return dnnl::memory(d, engine(), const_cast<void*>(t.data_ptr()));
}

dnnl::memory wrap(const dnnl::memory::desc& d, const float* p) {
  return dnnl::memory(d, engine(), const_cast<float*>(p));
}

void syncThreads() {
  if (omp_get_max_threads() != at::get_num_threads()) omp_set_num_threads(at::get_num_threads());
}

dnnl::memory reordered(dnnl::memory from, const dnnl::memory::desc& to) {
  dnnl::memory out(to, engine());
  syncThreads();
  dnnl::reorder(from, out).execute(threadStream(), from, out);
  threadStream().wait();
  return out;
}

at::Tensor outputBuffer(at::Tensor addend, at::IntArrayRef sizes, const at::TensorOptions& options,
                        at::MemoryFormat format) {
  if (!addend.defined()) return at::empty(sizes, options.memory_format(format));
  TORCH_CHECK(addend.sizes() == sizes, "fused sum: addend shape ", addend.sizes(), " vs ", sizes);
  if (addend.use_count() == 1 && addend.storage().use_count() == 1 && addend.is_contiguous(format) &&
      addend.scalar_type() == at::kFloat && addend.storage_offset() == 0)
    return addend;
  return at::empty(sizes, options.memory_format(format)).copy_(addend);
}

}  // namespace fs::model::onednn
