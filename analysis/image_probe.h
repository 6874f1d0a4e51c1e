#pragma once
// Private to analysis/: the parts of image_probe.cpp (the header probes behind image_io.h) that
// image_io.cpp's decoder uses.
#include <cstdint>
#include <string>
#include <vector>

namespace fs::analysis::image_probe {

// EXIF Orientation (1-8) from a JPEG file's first APP1 "Exif" segment; 1 when absent or unreadable.
int jpegOrientation(const std::vector<uint8_t>& bytes);

// The whole file. InputError naming it when it is missing, a directory or unreadable.
std::vector<uint8_t> readImageFile(const std::string& path);

}  // namespace fs::analysis::image_probe
