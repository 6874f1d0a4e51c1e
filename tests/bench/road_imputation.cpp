// ROAD's noisy linear imputation (analysis/evaluation/imputation_solver.h), one mask at a time,
// timed by phase: building the system, factorising it, solving it. The masks are those a ROAD
// curve removes (MoRF and LeRF at 10-90%) for three kinds of seeded random map at SIZE px: smooth
// (a 7 x 7 grid upsampled bilinearly, like Grad-CAM's), blocky (28 x 28 upsampled by nearest, like
// occlusion's on Fashion-MNIST's pixels) and per pixel (like a gradient's). "reused": one system
// and factor serve every mask, as in one lane of evaluate's; "fresh": new ones for each mask.
// Prints per kind and way the median over ROUNDS (alternating the two ways) of the mean
// milliseconds per imputation, and of each phase.
// usage: road_imputation [ROUNDS] [SIZE] [KIND...]
#include "analysis/evaluation/imputation_solver.h"
#include "analysis/evaluation/statistics.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <random>
#include <string>
#include <vector>

namespace {

namespace im = fs::analysis::imputation;
using Clock = std::chrono::steady_clock;

using fs::analysis::median;  // numpy.median's convention

// A size x size map, row-major: uniform values on a grid x grid lattice, upsampled bilinearly
// (align_corners false) or by nearest; per pixel when grid == size.
std::vector<double> randomMap(const std::string& kind, int64_t size, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  const int64_t grid = kind == "smooth" ? 7 : kind == "blocky" ? 28 : size;
  std::vector<double> coarse(size_t(grid * grid)), map(size_t(size * size));
  for (double& v : coarse) v = uniform(gen);
  const double scale = double(grid) / double(size);
  for (int64_t r = 0; r < size; ++r)
    for (int64_t c = 0; c < size; ++c) {
      double& out = map[size_t(r * size + c)];
      if (kind != "smooth") {
        out = coarse[size_t(std::min(grid - 1, int64_t(double(r) * scale)) * grid +
                            std::min(grid - 1, int64_t(double(c) * scale)))];
        continue;
      }
      const double y = std::max(0.0, (double(r) + 0.5) * scale - 0.5), x = std::max(0.0, (double(c) + 0.5) * scale - 0.5);
      const int64_t y0 = std::min(grid - 1, int64_t(y)), x0 = std::min(grid - 1, int64_t(x));
      const int64_t y1 = std::min(grid - 1, y0 + 1), x1 = std::min(grid - 1, x0 + 1);
      const double fy = y - double(y0), fx = x - double(x0);
      const auto at = [&](int64_t yy, int64_t xx) { return coarse[size_t(yy * grid + xx)]; };
      out = (1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x1)) + fy * ((1 - fx) * at(y1, x0) + fx * at(y1, x1));
    }
  return map;
}

// MoRF and LeRF masks at 10-90% of a map's ranking (a stable sort, as ROAD's curves rank).
std::vector<std::vector<char>> roadMasks(const std::vector<double>& map) {
  std::vector<std::vector<char>> masks;
  for (bool morf : {true, false}) {
    std::vector<size_t> order(map.size());
    std::iota(order.begin(), order.end(), size_t(0));
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return morf ? map[a] > map[b] : map[a] < map[b]; });
    for (int p = 10; p <= 90; p += 10) {
      std::vector<char> m(map.size(), 0);
      const size_t k = (size_t(p) * map.size() + 50) / 100;
      for (size_t i = 0; i < k; ++i) m[order[i]] = 1;
      masks.push_back(std::move(m));
    }
  }
  return masks;
}

struct Phases {
  double system = 0, factor = 0, solve = 0;
};

Phases timeMasks(const std::vector<std::vector<char>>& masks, int64_t size, const std::vector<double>& image,
                 bool reused) {
  im::System kept;
  im::NestedDissection keptFactor;
  Phases t;
  for (const std::vector<char>& m : masks) {
    im::System fresh;
    im::NestedDissection freshFactor;
    im::System& s = reused ? kept : fresh;
    im::NestedDissection& nd = reused ? keptFactor : freshFactor;
    const auto t0 = Clock::now();
    im::buildSystem(reinterpret_cast<const bool*>(m.data()), size, size, s);
    const auto t1 = Clock::now();
    if (!nd.factorise(s)) std::abort();
    const auto t2 = Clock::now();
    std::vector<double> x = im::rightHandSide(s, image.data());
    nd.solveInterleaved(x, 1);
    const auto t3 = Clock::now();
    t.system += std::chrono::duration<double, std::milli>(t1 - t0).count();
    t.factor += std::chrono::duration<double, std::milli>(t2 - t1).count();
    t.solve += std::chrono::duration<double, std::milli>(t3 - t2).count();
  }
  const double n = double(masks.size());
  t.system /= n, t.factor /= n, t.solve /= n;
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  const int rounds = argc > 1 ? std::max(1, std::atoi(argv[1])) : 5;
  const int64_t size = argc > 2 ? std::max(8, std::atoi(argv[2])) : 112;
  std::vector<double> image(size_t(size * size));
  for (size_t i = 0; i < image.size(); ++i) image[i] = double((i * 7919) % 251) / 250.0;
  std::printf("kind | way | ms / imputation | system | factorise | solve   (median of %d rounds, %lld px, 4 maps x 18 "
              "masks)\n",
              rounds, static_cast<long long>(size));
  std::vector<std::string> kinds{"smooth", "blocky", "per-pixel"};
  if (argc > 3) kinds.assign(argv + 3, argv + argc);
  for (const std::string& kind : kinds) {
    std::vector<std::vector<char>> masks;
    for (unsigned seed = 1; seed <= 4; ++seed)
      for (std::vector<char>& m : roadMasks(randomMap(kind, size, seed))) masks.push_back(std::move(m));
    timeMasks(masks, size, image, true);  // warm-up
    std::vector<double> total[2], system[2], factor[2], solve[2];
    for (int r = 0; r < rounds; ++r)
      for (int way = 0; way < 2; ++way) {
        const Phases p = timeMasks(masks, size, image, way == 1);
        total[way].push_back(p.system + p.factor + p.solve), system[way].push_back(p.system);
        factor[way].push_back(p.factor), solve[way].push_back(p.solve);
      }
    for (int way = 0; way < 2; ++way)
      std::printf("%s | %s | %.3f | %.3f | %.3f | %.3f\n", kind.c_str(), way ? "reused" : "fresh", median(total[way]),
                  median(system[way]), median(factor[way]), median(solve[way]));
  }
  return 0;
}
