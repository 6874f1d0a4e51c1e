#pragma once
// Ground-truth object masks for the localisation metrics, at the model's input size.
//  - Fashion-MNIST: the object's silhouette, the pixels above the black background (value > 0),
//    a free ground truth; upsampled as fashionMnistBatch upsamples the image (bilinear, half-pixel
//    centres), kept where the upsampled indicator is >= 0.5.
//  - A folder of images: NAME.mask.png beside NAME.png (any image format the app reads; object
//    pixels are those with a grey value >= 128), of the image's own size, put through the same
//    resize and centre crop as the image (preprocess).
// Errors are InputErrors that name the mask file and the reason.
#include "model/input_spec.h"

#include <ATen/core/Tensor.h>

#include <string>

namespace fs::analysis {

// images: uint8 [28,28] or [N,28,28] -> bool [H,W] or [N,H,W].
at::Tensor fashionMnistSilhouette(const at::Tensor& images, const fs::model::InputSpec& spec);

// "dir/NAME.png" -> "dir/NAME.mask.png" (any extension of the image).
std::string maskPathFor(const std::string& imagePath);

// The mask of an image of imageWidth x imageHeight pixels (before preprocessing), bool [H,W] at the
// model input. InputError: unreadable, another size than the image, no object pixel, or no object
// pixel left inside the model's centre crop.
at::Tensor loadMask(const std::string& maskPath, int imageWidth, int imageHeight, const fs::model::InputSpec& spec);

}  // namespace fs::analysis
