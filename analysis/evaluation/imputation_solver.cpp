#include "analysis/evaluation/imputation_solver.h"

#include "analysis/evaluation/dense_fronts.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace fs::analysis::imputation {

namespace {

struct Neighbour {
  int dr, dc;
  double w;
};
constexpr Neighbour kNeighbours[8] = {{-1, -1, 1.0 / 12}, {-1, 0, 1.0 / 6}, {-1, 1, 1.0 / 12}, {0, -1, 1.0 / 6},
                                      {0, 1, 1.0 / 6},    {1, -1, 1.0 / 12}, {1, 0, 1.0 / 6},  {1, 1, 1.0 / 12}};

// Rectangles of at most this many pixels are not split further.
constexpr int64_t kLeafArea = 32;

double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

void applySystem(const System& s, const std::vector<double>& x, std::vector<double>& y) {
  for (size_t i = 0; i < x.size(); ++i) {
    double v = s.diag[i] * x[i];
    for (int64_t k = s.linkStart[i]; k < s.linkStart[i + 1]; ++k) v -= s.linkWeight[size_t(k)] * x[size_t(s.link[size_t(k)])];
    y[i] = v;
  }
}

}  // namespace

System buildSystem(const bool* removed, int64_t h, int64_t w) {
  System s;
  s.h = h, s.w = w;
  s.index.assign(size_t(h * w), -1);
  s.pixels.reserve(size_t(h * w));
  for (int64_t p = 0; p < h * w; ++p)
    if (removed[p]) s.index[size_t(p)] = int64_t(s.pixels.size()), s.pixels.push_back(p);
  const size_t n = s.pixels.size();
  s.diag.assign(n, 0.0);
  s.linkStart.reserve(n + 1), s.knownStart.reserve(n + 1);
  s.link.reserve(8 * n), s.linkWeight.reserve(8 * n), s.known.reserve(4 * n), s.knownWeight.reserve(4 * n);
  s.linkStart.push_back(0), s.knownStart.push_back(0);
  for (size_t i = 0; i < n; ++i) {
    const int64_t r = s.pixels[i] / w, c = s.pixels[i] % w;
    for (const Neighbour& nb : kNeighbours) {
      const int64_t rr = r + nb.dr, cc = c + nb.dc;
      if (rr < 0 || cc < 0 || rr >= h || cc >= w) continue;
      s.diag[i] += nb.w;
      const int64_t q = rr * w + cc;
      if (removed[q]) s.link.push_back(s.index[size_t(q)]), s.linkWeight.push_back(nb.w);
      else s.known.push_back(q), s.knownWeight.push_back(nb.w);
    }
    s.linkStart.push_back(int64_t(s.link.size())), s.knownStart.push_back(int64_t(s.known.size()));
  }
  return s;
}

std::vector<double> rightHandSide(const System& s, const double* v) {
  const size_t n = s.pixels.size();
  std::vector<double> b(n, 0.0);
  for (size_t i = 0; i < n; ++i)
    for (int64_t k = s.knownStart[i]; k < s.knownStart[i + 1]; ++k) b[i] += s.knownWeight[size_t(k)] * v[s.known[size_t(k)]];
  return b;
}

std::vector<double> conjugateGradients(const System& s, const std::vector<double>& b) {
  const size_t n = b.size();
  std::vector<double> x(n, 0.0), r = b, z(n), p(n), ap(n);
  for (size_t i = 0; i < n; ++i) z[i] = r[i] / s.diag[i];
  p = z;
  double rz = dot(r, z);
  const double stop = 1e-16 * std::max(dot(b, b), 1e-300);
  for (size_t it = 0; it < 10 * n + 100 && dot(r, r) > stop; ++it) {
    applySystem(s, p, ap);
    const double pap = dot(p, ap);
    const double alpha = pap > 0 ? rz / pap : 0.0;
    for (size_t i = 0; i < n; ++i) x[i] += alpha * p[i], r[i] -= alpha * ap[i];
    for (size_t i = 0; i < n; ++i) z[i] = r[i] / s.diag[i];
    const double next = dot(r, z);
    const double beta = rz > 0 ? next / rz : 0.0;
    for (size_t i = 0; i < n; ++i) p[i] = z[i] + beta * p[i];
    rz = next;
  }
  return x;
}

double NestedDissection::memoryEstimate(int64_t n, int64_t h, int64_t w) {
  return 8.0 * double(n) * std::log2(double(std::max<int64_t>(2, std::min(h, w))));
}

namespace {

// The unknowns of a System by position: counts over rectangles (to skip empty ones, by prefix
// sums) and the ring of unknowns around a rectangle.
class UnknownGrid {
 public:
  explicit UnknownGrid(const System& s) : s_(s), prefix_(size_t((s.h + 1) * (s.w + 1)), 0) {
    const int64_t w = s.w, stride = w + 1;  // prefix_[r * stride + c]: unknowns in rows < r, columns < c
    for (int64_t r = 0; r < s.h; ++r)
      for (int64_t c = 0; c < w; ++c)
        prefix_[size_t((r + 1) * stride + c + 1)] = prefix_[size_t(r * stride + c + 1)] +
                                                    prefix_[size_t((r + 1) * stride + c)] -
                                                    prefix_[size_t(r * stride + c)] + (s.index[size_t(r * w + c)] >= 0);
  }
  int64_t unknown(int64_t r, int64_t c) const {
    return r < 0 || c < 0 || r >= s_.h || c >= s_.w ? -1 : s_.index[size_t(r * s_.w + c)];
  }
  int64_t count(int64_t r0, int64_t r1, int64_t c0, int64_t c1) const {
    const int64_t stride = s_.w + 1;
    return prefix_[size_t(r1 * stride + c1)] - prefix_[size_t(r0 * stride + c1)] - prefix_[size_t(r1 * stride + c0)] +
           prefix_[size_t(r0 * stride + c0)];
  }
  // The unknowns outside [r0,r1) x [c0,c1) linked to an unknown inside.
  std::vector<int64_t> boundaryOf(int64_t r0, int64_t r1, int64_t c0, int64_t c1) const {
    std::vector<int64_t> out;
    const auto consider = [&](int64_t r, int64_t c) {
      const int64_t u = unknown(r, c);
      if (u < 0) return;
      for (const Neighbour& nb : kNeighbours) {
        const int64_t rr = r + nb.dr, cc = c + nb.dc;
        if (rr >= r0 && rr < r1 && cc >= c0 && cc < c1 && unknown(rr, cc) >= 0) {
          out.push_back(u);
          return;
        }
      }
    };
    for (int64_t c = c0 - 1; c <= c1; ++c) consider(r0 - 1, c), consider(r1, c);
    for (int64_t r = r0; r < r1; ++r) consider(r, c0 - 1), consider(r, c1);
    return out;
  }

 private:
  const System& s_;
  std::vector<int64_t> prefix_;
};

// The front's entries from A for the k unknowns eliminated here (`own`; pos: an unknown's place
// in the front, -1 outside it): the diagonal and the links to later places (lower triangle).
void assembleOwn(const System& s, const std::vector<int64_t>& own, const std::vector<int64_t>& pos, double* front,
                 size_t f) {
  for (size_t j = 0; j < own.size(); ++j) {
    const int64_t u = own[j];
    front[j + j * f] += s.diag[size_t(u)];
    for (int64_t e = s.linkStart[size_t(u)]; e < s.linkStart[size_t(u) + 1]; ++e) {
      const int64_t p = pos[size_t(s.link[size_t(e)])];
      if (p > int64_t(j)) front[size_t(p) + j * f] -= s.linkWeight[size_t(e)];
    }
  }
}

// A child's update matrix (mc x mc, lower triangle) added into the front at the places `at`,
// which increase: b >= a lands on or below the diagonal.
void extendAdd(double* front, size_t f, const std::vector<size_t>& at, const double* update, size_t mc) {
  for (size_t a = 0; a < mc; ++a) {
    double* col = front + at[a] * f;
    const double* ua = update + a * mc;
    for (size_t b = a; b < mc; ++b) col[at[b]] += ua[b];
  }
}

}  // namespace

bool NestedDissection::factorise(const System& s) {
  nodes_.clear();
  // A is singular exactly when no removed pixel has a known neighbour: a removed region short of
  // the whole image borders a known pixel (the grid is connected), and then its rows are
  // irreducibly diagonally dominant. Decided here from the structure, not from a rounded pivot
  // (which the last elimination leaves at +-1e-17 or so).
  if (!s.pixels.empty() && s.known.empty()) return false;
  buildTree(s);
  orderBoundaries(s.pixels.size());
  return eliminate(s);
}

void NestedDissection::buildTree(const System& s) {
  const UnknownGrid grid(s);
  auto build = [&](auto& self, int64_t r0, int64_t r1, int64_t c0, int64_t c1) -> int {
    if (r0 >= r1 || c0 >= c1 || grid.count(r0, r1, c0, c1) == 0) return -1;
    Node node;
    if ((r1 - r0) * (c1 - c0) <= kLeafArea) {
      for (int64_t r = r0; r < r1; ++r)
        for (int64_t c = c0; c < c1; ++c)
          if (grid.unknown(r, c) >= 0) node.own.push_back(grid.unknown(r, c));
    } else if (r1 - r0 >= c1 - c0) {  // split by the middle row
      const int64_t m = (r0 + r1) / 2;
      node.left = self(self, r0, m, c0, c1);
      node.right = self(self, m + 1, r1, c0, c1);
      for (int64_t c = c0; c < c1; ++c)
        if (grid.unknown(m, c) >= 0) node.own.push_back(grid.unknown(m, c));
    } else {  // by the middle column
      const int64_t m = (c0 + c1) / 2;
      node.left = self(self, r0, r1, c0, m);
      node.right = self(self, r0, r1, m + 1, c1);
      for (int64_t r = r0; r < r1; ++r)
        if (grid.unknown(r, m) >= 0) node.own.push_back(grid.unknown(r, m));
    }
    node.boundary = grid.boundaryOf(r0, r1, c0, c1);
    nodes_.push_back(std::move(node));
    return int(nodes_.size()) - 1;
  };
  build(build, 0, s.h, 0, s.w);
}

// Each node's boundary in the order of its parent's front (own, then boundary), parents first: a
// child's update then adds into the parent's lower triangle column by column without comparing
// positions (the extend-add was half of the factorisation's own time when it compared). A child's
// boundary lies in its parent's front, so it is read off the parent's front in order (a marked
// pass, linear) rather than sorted; the order is the same.
void NestedDissection::orderBoundaries(size_t unknowns) {
  std::vector<int> mark(unknowns, -1);  // the child whose boundary holds an unknown
  std::vector<int64_t> ordered;
  for (size_t t = nodes_.size(); t-- > 0;) {
    const Node& parent = nodes_[t];
    for (int child : {parent.left, parent.right}) {
      if (child < 0) continue;
      std::vector<int64_t>& b = nodes_[size_t(child)].boundary;
      for (int64_t u : b) mark[size_t(u)] = child;
      ordered.clear();
      for (const std::vector<int64_t>* part : {&parent.own, &parent.boundary})
        for (int64_t u : *part)
          if (mark[size_t(u)] == child) ordered.push_back(u);
      if (ordered.size() != b.size()) throw std::logic_error("nested dissection: a boundary outside its parent's front");
      b.swap(ordered);
    }
  }
}

// The multifrontal elimination in postorder. The update matrices live on a stack: a node's
// children's updates are the last ones pushed (the right child's on top), and it pops them before
// pushing its own.
bool NestedDissection::eliminate(const System& s) {
  std::vector<int64_t> pos(s.pixels.size(), -1);
  UninitialisedDoubles stack;
  std::vector<size_t> stackTop;  // start of each pushed update
  size_t lSize = 0;
  for (const Node& node : nodes_) lSize += node.own.size() * (node.own.size() + node.boundary.size());
  lStore_.resize(lSize);
  size_t lNext = 0;
  // The front: zero-filled when it grows (rarely), since the Schur tiles that cross the diagonal
  // also update entries above it, which are never read but must hold numbers.
  std::vector<double> work;
  std::vector<size_t> childPos;  // a child's boundary unknowns' places in the front
  for (Node& node : nodes_) {
    const size_t k = node.own.size(), m = node.boundary.size(), f = k + m;
    for (size_t i = 0; i < k; ++i) pos[size_t(node.own[i])] = int64_t(i);
    for (size_t i = 0; i < m; ++i) pos[size_t(node.boundary[i])] = int64_t(k + i);
    // The front: column-major, only its lower triangle is used, zeroed and read.
    if (work.size() < f * f) work.resize(f * f);
    double* front = work.data();
    for (size_t c = 0; c < f; ++c) std::fill(front + c * f + c, front + (c + 1) * f, 0.0);
    assembleOwn(s, node.own, pos, front, f);
    for (int child : {node.right, node.left}) {  // the right child's update is on top
      if (child < 0) continue;
      const std::vector<int64_t>& cb = nodes_[size_t(child)].boundary;
      childPos.resize(cb.size());
      for (size_t a = 0; a < cb.size(); ++a) childPos[a] = size_t(pos[size_t(cb[a])]);
      extendAdd(front, f, childPos, stack.data() + stackTop.back(), cb.size());
      stack.resize(stackTop.back());
      stackTop.pop_back();
    }
    if (!partialCholesky(front, f, k)) return false;
    stackTop.push_back(stack.size());
    stack.resize(stack.size() + m * m);
    double* update = stack.data() + stackTop.back();
    for (size_t c = 0; c < m; ++c)
      for (size_t i = c; i < m; ++i) update[i + c * m] = front[(k + i) + (k + c) * f];
    node.l = lNext;
    std::copy(front, front + f * k, lStore_.data() + lNext);
    lNext += f * k;
    for (int64_t u : node.own) pos[size_t(u)] = -1;
    for (int64_t u : node.boundary) pos[size_t(u)] = -1;
  }
  return true;
}

std::vector<double> NestedDissection::solve(std::vector<double> b) const {
  solveInterleaved(b, 1);
  return b;
}

void NestedDissection::solveInterleaved(std::vector<double>& x, size_t nc) const {
  std::vector<double> buf;
  // The front's values per right-hand side, buf[c * f + i], gathered from and scattered to x.
  auto gather = [&](const Node& node, size_t f) {
    buf.resize(f * nc);
    const size_t k = node.own.size();
    for (size_t i = 0; i < f; ++i) {
      const double* xi = &x[size_t(i < k ? node.own[i] : node.boundary[i - k]) * nc];
      for (size_t c = 0; c < nc; ++c) buf[c * f + i] = xi[c];
    }
  };
  auto scatter = [&](const Node& node, size_t f, size_t count) {
    const size_t k = node.own.size();
    for (size_t i = 0; i < count; ++i) {
      double* xi = &x[size_t(i < k ? node.own[i] : node.boundary[i - k]) * nc];
      for (size_t c = 0; c < nc; ++c) xi[c] = buf[c * f + i];
    }
  };
  for (const Node& node : nodes_) {  // L y = b, children first
    const size_t k = node.own.size(), f = k + node.boundary.size();
    gather(node, f);
    for (size_t c = 0; c < nc; ++c) forwardFront(lStore_.data() + node.l, f, k, &buf[c * f]);
    scatter(node, f, f);
  }
  for (size_t t = nodes_.size(); t-- > 0;) {  // L^T x = y, parents first
    const Node& node = nodes_[t];
    const size_t k = node.own.size(), f = k + node.boundary.size();
    gather(node, f);
    for (size_t c = 0; c < nc; ++c) backwardFront(lStore_.data() + node.l, f, k, &buf[c * f]);
    scatter(node, f, k);
  }
}

}  // namespace fs::analysis::imputation
