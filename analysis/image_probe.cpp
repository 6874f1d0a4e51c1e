// Image headers read without decoding (image_io.h's probeImage): PNG IHDR, JPEG SOFn, BMP's DIB
// header, TIFF IFD0 and WebP's first chunk, each bounded; and a JPEG's EXIF orientation. Every bad
// header is an InputError that names the file.
#include "analysis/image_io.h"

#include "analysis/image_probe.h"
#include "model/errors.h"

#include <cerrno>
#include <climits>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <stdexcept>

namespace fs::analysis {
namespace {

using fs::model::InputError;

constexpr int kMaxJpegSegments = 4096;
constexpr int kMaxIfdEntries = 4096;
constexpr uint16_t kTiffImageWidth = 256;
constexpr uint16_t kTiffImageLength = 257;
constexpr uint16_t kTiffOrientation = 274;

// A header that cannot be parsed; probe functions turn it into "<name>: <reason>".
struct HeaderError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Random access to the bytes of an image file or buffer; readSome() stops at the end.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  virtual size_t readSome(uint64_t offset, uint8_t* out, size_t n) = 0;

  std::vector<uint8_t> need(uint64_t offset, size_t n, const char* what) {
    std::vector<uint8_t> buf(n);
    if (readSome(offset, buf.data(), n) != n) {
      throw HeaderError(std::string("truncated ") + what + " at offset " + std::to_string(offset));
    }
    return buf;
  }
};

class FileSource : public ByteSource {
 public:
  explicit FileSource(std::ifstream& in) : in_(in) {}
  size_t readSome(uint64_t offset, uint8_t* out, size_t n) override {
    in_.clear();
    in_.seekg(static_cast<std::streamoff>(offset));
    in_.read(reinterpret_cast<char*>(out), static_cast<std::streamsize>(n));
    return in_.gcount() < 0 ? 0 : static_cast<size_t>(in_.gcount());
  }

 private:
  std::ifstream& in_;
};

class MemorySource : public ByteSource {
 public:
  explicit MemorySource(const std::vector<uint8_t>& bytes) : bytes_(bytes) {}
  size_t readSome(uint64_t offset, uint8_t* out, size_t n) override {
    if (offset >= bytes_.size()) return 0;
    size_t count = std::min<uint64_t>(n, bytes_.size() - offset);
    std::memcpy(out, bytes_.data() + offset, count);
    return count;
  }

 private:
  const std::vector<uint8_t>& bytes_;
};

uint32_t readUint(const uint8_t* p, int bytes, bool bigEndian) {
  uint32_t v = 0;
  for (int i = 0; i < bytes; ++i) {
    int shift = 8 * (bigEndian ? bytes - 1 - i : i);
    v |= static_cast<uint32_t>(p[i]) << shift;
  }
  return v;
}
uint32_t be16(const uint8_t* p) { return readUint(p, 2, true); }
uint32_t be32(const uint8_t* p) { return readUint(p, 4, true); }
uint32_t le16(const uint8_t* p) { return readUint(p, 2, false); }
uint32_t le24(const uint8_t* p) { return readUint(p, 3, false); }
uint32_t le32(const uint8_t* p) { return readUint(p, 4, false); }

ImageInfo makeInfo(int64_t width, int64_t height, const char* format) {
  if (width <= 0 || height <= 0 || width > INT_MAX || height > INT_MAX) {
    throw HeaderError(std::string("invalid ") + format + " size " + std::to_string(width) + " x " +
                      std::to_string(height));
  }
  return {static_cast<int>(width), static_cast<int>(height), format};
}

ImageInfo probePng(ByteSource& s) {
  auto h = s.need(8, 16, "PNG IHDR chunk");
  if (std::memcmp(&h[4], "IHDR", 4) != 0) throw HeaderError("PNG does not start with IHDR");
  return makeInfo(be32(&h[8]), be32(&h[12]), "png");
}

bool isSofMarker(uint8_t m) { return m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC; }
bool isStandaloneMarker(uint8_t m) { return m == 0x01 || (m >= 0xD0 && m <= 0xD7); }

// Calls visit(marker, segmentOffset, length) for each JPEG segment before the scan data, until
// visit returns true. segmentOffset points at the 0xFF; length counts itself, like the file.
void walkJpeg(ByteSource& s, const std::function<bool(uint8_t, uint64_t, uint32_t)>& visit) {
  uint64_t pos = 2;
  for (int i = 0; i < kMaxJpegSegments; ++i) {
    auto m = s.need(pos, 4, "JPEG marker");
    if (m[0] != 0xFF) throw HeaderError("no JPEG marker at offset " + std::to_string(pos));
    if (m[1] == 0xFF) {
      ++pos;
      continue;
    }
    if (isStandaloneMarker(m[1])) {
      pos += 2;
      continue;
    }
    if (m[1] == 0xDA || m[1] == 0xD9) throw HeaderError("JPEG has no frame header (SOFn)");
    uint32_t length = be16(&m[2]);
    if (length < 2) throw HeaderError("JPEG segment with invalid length");
    if (visit(m[1], pos, length)) return;
    pos += 2 + length;
  }
  throw HeaderError("JPEG has too many segments before the frame header");
}

ImageInfo probeJpeg(ByteSource& s) {
  std::optional<ImageInfo> info;
  walkJpeg(s, [&](uint8_t marker, uint64_t pos, uint32_t) {
    if (!isSofMarker(marker)) return false;
    auto f = s.need(pos + 4, 5, "JPEG frame header");  // precision, height, width
    info = makeInfo(be16(&f[3]), be16(&f[1]), "jpeg");
    return true;
  });
  return *info;
}

ImageInfo probeBmp(ByteSource& s) {
  auto h = s.need(0, 26, "BMP header");
  uint32_t dibSize = le32(&h[14]);
  if (dibSize == 12) return makeInfo(le16(&h[18]), le16(&h[20]), "bmp");
  if (dibSize < 16) throw HeaderError("BMP has an unknown DIB header size");
  int64_t height = static_cast<int32_t>(le32(&h[22]));  // negative = top-down rows
  return makeInfo(static_cast<int32_t>(le32(&h[18])), height < 0 ? -height : height, "bmp");
}

struct TiffHeader {
  bool bigEndian = false;
  uint32_t ifd0 = 0;
};

// `base` is where the TIFF header starts (0 in a .tif file, after "Exif\0\0" in JPEG APP1).
TiffHeader readTiffHeader(ByteSource& s, uint64_t base) {
  auto h = s.need(base, 8, "TIFF header");
  bool big = h[0] == 'M' && h[1] == 'M';
  if (!big && !(h[0] == 'I' && h[1] == 'I')) throw HeaderError("bad TIFF byte order mark");
  uint32_t magic = readUint(&h[2], 2, big);
  if (magic == 43) throw HeaderError("BigTIFF is not supported");
  if (magic != 42) throw HeaderError("bad TIFF magic number");
  return {big, readUint(&h[4], 4, big)};
}

// The value of an integer (SHORT or LONG, count 1) tag in the IFD at base + offset.
std::optional<uint32_t> ifdValue(ByteSource& s, uint64_t base, const TiffHeader& t, uint16_t tag) {
  uint32_t count = readUint(s.need(base + t.ifd0, 2, "TIFF IFD").data(), 2, t.bigEndian);
  if (count == 0 || count > kMaxIfdEntries) throw HeaderError("TIFF IFD has an invalid entry count");
  auto entries = s.need(base + t.ifd0 + 2, 12 * count, "TIFF IFD entries");
  for (uint32_t i = 0; i < count; ++i) {
    const uint8_t* e = &entries[12 * i];
    if (readUint(e, 2, t.bigEndian) != tag) continue;
    uint32_t type = readUint(e + 2, 2, t.bigEndian);
    if (type == 3) return readUint(e + 8, 2, t.bigEndian);
    if (type == 4) return readUint(e + 8, 4, t.bigEndian);
    throw HeaderError("TIFF tag " + std::to_string(tag) + " has an unexpected type");
  }
  return std::nullopt;
}

ImageInfo probeTiff(ByteSource& s) {
  TiffHeader t = readTiffHeader(s, 0);
  auto width = ifdValue(s, 0, t, kTiffImageWidth);
  auto height = ifdValue(s, 0, t, kTiffImageLength);
  if (!width || !height) throw HeaderError("TIFF lacks ImageWidth/ImageLength");
  return makeInfo(*width, *height, "tiff");
}

ImageInfo probeWebp(ByteSource& s) {
  auto h = s.need(12, 8, "WebP chunk header");
  if (std::memcmp(h.data(), "VP8 ", 4) == 0) {
    auto f = s.need(20, 10, "WebP VP8 frame header");
    if (f[3] != 0x9D || f[4] != 0x01 || f[5] != 0x2A) throw HeaderError("bad VP8 start code");
    return makeInfo(le16(&f[6]) & 0x3FFF, le16(&f[8]) & 0x3FFF, "webp");
  }
  if (std::memcmp(h.data(), "VP8L", 4) == 0) {
    auto f = s.need(20, 5, "WebP VP8L header");
    if (f[0] != 0x2F) throw HeaderError("bad VP8L signature");
    uint32_t bits = le32(&f[1]);
    return makeInfo((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1, "webp");
  }
  if (std::memcmp(h.data(), "VP8X", 4) == 0) {
    auto f = s.need(20, 10, "WebP VP8X header");
    return makeInfo(le24(&f[4]) + 1, le24(&f[7]) + 1, "webp");
  }
  throw HeaderError("WebP has an unknown first chunk");
}

ImageInfo probeSource(ByteSource& s, const std::string& name) {
  uint8_t sig[12] = {};
  size_t n = s.readSome(0, sig, sizeof sig);
  try {
    if (n == 0) throw HeaderError("empty file");
    if (n >= 8 && std::memcmp(sig, "\x89PNG\r\n\x1a\n", 8) == 0) return probePng(s);
    if (n >= 3 && sig[0] == 0xFF && sig[1] == 0xD8 && sig[2] == 0xFF) return probeJpeg(s);
    if (n >= 2 && sig[0] == 'B' && sig[1] == 'M') return probeBmp(s);
    if (n >= 4 && (std::memcmp(sig, "II", 2) == 0 || std::memcmp(sig, "MM", 2) == 0)) return probeTiff(s);
    if (n >= 12 && std::memcmp(sig, "RIFF", 4) == 0 && std::memcmp(sig + 8, "WEBP", 4) == 0) {
      return probeWebp(s);
    }
    throw HeaderError("not a supported image format (expected PNG, JPEG, BMP, TIFF or WebP)");
  } catch (const HeaderError& e) {
    throw InputError(name + ": " + e.what());
  }
}

std::ifstream openImageFile(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw InputError(path + ": no such file");
  if (std::filesystem::is_directory(path, ec)) throw InputError(path + ": is a directory, not an image");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot be read (" + std::strerror(errno) + ")");
  return in;
}

}  // namespace

namespace image_probe {

int jpegOrientation(const std::vector<uint8_t>& bytes) {
  MemorySource s(bytes);
  int orientation = 1;
  try {
    walkJpeg(s, [&](uint8_t marker, uint64_t pos, uint32_t length) {
      if (marker != 0xE1 || length < 16) return false;
      if (std::memcmp(s.need(pos + 4, 6, "APP1").data(), "Exif\0\0", 6) != 0) return false;
      auto value = ifdValue(s, pos + 10, readTiffHeader(s, pos + 10), kTiffOrientation);
      if (value && *value >= 1 && *value <= 8) orientation = static_cast<int>(*value);
      return true;
    });
  } catch (const HeaderError&) {
  }
  return orientation;
}

std::vector<uint8_t> readImageFile(const std::string& path) {
  std::ifstream in = openImageFile(path);
  in.seekg(0, std::ios::end);
  std::streamoff size = in.tellg();
  in.seekg(0);
  std::vector<uint8_t> bytes(size > 0 ? static_cast<size_t>(size) : 0);
  if (!in.read(reinterpret_cast<char*>(bytes.data()), size)) throw InputError(path + ": read failed");
  return bytes;
}

}  // namespace image_probe

ImageInfo probeImage(const std::string& path) {
  std::ifstream in = openImageFile(path);
  FileSource source(in);
  return probeSource(source, path);
}

ImageInfo probeImageBytes(const std::vector<uint8_t>& bytes, const std::string& name) {
  MemorySource source(bytes);
  return probeSource(source, name);
}

}  // namespace fs::analysis
