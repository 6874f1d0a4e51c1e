#pragma once
// How selective each channel of a tap is over a data set, from each image's channel response: the
// channel's activation rectified (max(a, 0)) and averaged over the map's positions, as Morcos et al.
// average a convolutional feature map over its elements (for a ReLU tap the rectification changes
// nothing; for a signed tap, e.g. a pre-activation or a normalised residual stream, it keeps the
// measures below in [0, 1], where the paper's formula assumes non-negative activity).
// - With class labels: the class selectivity index of Morcos, Barrett, Rabinowitz & Botvinick 2018
//   ("On the importance of single directions for generalization", ICLR, Sec. 2.3):
//     SI = (mu_max - mu_-max) / (mu_max + mu_-max),
//   mu_max the largest class-conditional mean response, mu_-max the mean of the other classes'
//   class-conditional means; 0 = the same mean for every class, 1 = active for one class only.
// - Without labels (an image folder): the lifetime sparseness of Vinje & Gallant 2000 ("Sparse
//   coding and decorrelation in primary visual cortex during natural vision", Science, eq. 1):
//     S = (1 - (sum_i r_i / n)^2 / (sum_i r_i^2 / n)) / (1 - 1 / n)
//   over the n images' responses r_i; 0 = the same response to every image, 1 = one image only.
// A channel that is silent on every image (zero denominator) scores 0.
#include "analysis/features/image_source.h"
#include "analysis/model_loader.h"

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace fs::analysis {

// float64 [N, C]: image n's rectified spatial mean of channel c at `tap`, batched, under
// InferenceMode. `progress(done, total)` after each batch; false cancels (InputError "cancelled").
at::Tensor channelResponses(LoadedModel& model, const std::string& tap, const ImageSource& source, int batchSize,
                            const std::function<bool(int64_t, int64_t)>& progress = {});

// responses [N, C] (non-negative), labels int64 [N] in [0, classes): one index per channel.
// InputError when the sizes disagree, a label is out of range or fewer than two classes occur.
std::vector<double> classSelectivityIndex(const at::Tensor& responses, const at::Tensor& labels, int64_t classes);

// responses [N, C] (non-negative), N >= 2: one lifetime sparseness per channel.
std::vector<double> lifetimeSparseness(const at::Tensor& responses);

}  // namespace fs::analysis
