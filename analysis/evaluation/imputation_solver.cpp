// The nested-dissection multifrontal Cholesky factor of ROAD's sparse system (imputation_solver.h):
// the recursive split of the image, the fronts' order and their elimination, and the solve.
#include "analysis/evaluation/imputation_solver.h"

#include "analysis/evaluation/dense_fronts.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace fs::analysis::imputation {

double NestedDissection::memoryEstimate(int64_t n, int64_t h, int64_t w) {
  return 8.0 * double(n) * std::log2(double(std::max<int64_t>(2, std::min(h, w))));
}

namespace {

// Rectangles of at most this many pixels are not split further.
constexpr int64_t kLeafArea = 32;

// The unknowns of a System by position: counts over rectangles (to skip empty ones, by prefix
// sums) and the ring of unknowns around a rectangle.
class UnknownGrid {
 public:
  // prefix: storage for the counts, kept by the caller between systems.
  UnknownGrid(const System& s, std::vector<int64_t>& prefix) : s_(s), prefix_(prefix) {
    const int64_t w = s.w, stride = w + 1;  // prefix_[r * stride + c]: unknowns in rows < r, columns < c
    prefix_.resize(size_t((s.h + 1) * stride));
    std::fill(prefix_.begin(), prefix_.begin() + stride, 0);  // row 0; column 0 below
    for (int64_t r = 1; r <= s.h; ++r) prefix_[size_t(r * stride)] = 0;
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
  // out = the unknowns outside [r0,r1) x [c0,c1) linked to an unknown inside.
  void boundaryOf(int64_t r0, int64_t r1, int64_t c0, int64_t c1, std::vector<int64_t>& out) const {
    out.clear();
    const auto consider = [&](int64_t r, int64_t c) {  // its neighbours inside: a box of at most 3
      const int64_t u = unknown(r, c);
      if (u >= 0 && count(std::max(r - 1, r0), std::min(r + 2, r1), std::max(c - 1, c0), std::min(c + 2, c1)) > 0)
        out.push_back(u);
    };
    for (int64_t c = c0 - 1; c <= c1; ++c) consider(r0 - 1, c), consider(r1, c);
    for (int64_t r = r0; r < r1; ++r) consider(r, c0 - 1), consider(r, c1);
  }

 private:
  const System& s_;
  std::vector<int64_t>& prefix_;
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

// A front's values per right-hand side, buf[c * f + i] over its f unknowns (own, then boundary),
// gathered from x[u * nc + c]; one right-hand side (a grey image's) without the inner loop.
void gatherFront(const std::vector<int64_t>& own, const std::vector<int64_t>& boundary, const std::vector<double>& x,
                 size_t nc, std::vector<double>& buf) {
  const size_t k = own.size(), f = k + boundary.size();
  buf.resize(f * nc);
  if (nc == 1) {
    for (size_t i = 0; i < k; ++i) buf[i] = x[size_t(own[i])];
    for (size_t i = k; i < f; ++i) buf[i] = x[size_t(boundary[i - k])];
    return;
  }
  for (size_t i = 0; i < f; ++i) {
    const double* xi = &x[size_t(i < k ? own[i] : boundary[i - k]) * nc];
    for (size_t c = 0; c < nc; ++c) buf[c * f + i] = xi[c];
  }
}

// The front's first `count` values scattered back to x.
void scatterFront(const std::vector<int64_t>& own, const std::vector<int64_t>& boundary, size_t count,
                  const std::vector<double>& buf, size_t nc, std::vector<double>& x) {
  const size_t k = own.size(), f = k + boundary.size();
  if (nc == 1) {
    for (size_t i = 0; i < std::min(k, count); ++i) x[size_t(own[i])] = buf[i];
    for (size_t i = k; i < count; ++i) x[size_t(boundary[i - k])] = buf[i];
    return;
  }
  for (size_t i = 0; i < count; ++i) {
    double* xi = &x[size_t(i < k ? own[i] : boundary[i - k]) * nc];
    for (size_t c = 0; c < nc; ++c) xi[c] = buf[c * f + i];
  }
}

}  // namespace

bool NestedDissection::factorise(const System& s) {
  used_ = 0;
  // A is singular exactly when no removed pixel has a known neighbour: a removed region short of
  // the whole image borders a known pixel (the grid is connected), and then its rows are
  // irreducibly diagonally dominant. Decided here from the structure, not from a rounded pivot
  // (which the last elimination leaves at +-1e-17 or so).
  if (!s.pixels.empty() && s.known.empty()) return false;
  buildTree(s);
  orderBoundaries(s.pixels.size());
  return eliminate(s);
}

NestedDissection::Node& NestedDissection::nextNode() {
  if (used_ == nodes_.size()) nodes_.emplace_back();
  Node& node = nodes_[used_++];
  node.own.clear(), node.boundary.clear();
  return node;
}

void NestedDissection::buildTree(const System& s) {
  const UnknownGrid grid(s, prefix_);
  auto build = [&](auto& self, int64_t r0, int64_t r1, int64_t c0, int64_t c1) -> int {
    if (r0 >= r1 || c0 >= c1 || grid.count(r0, r1, c0, c1) == 0) return -1;
    const bool leaf = (r1 - r0) * (c1 - c0) <= kLeafArea, byRow = r1 - r0 >= c1 - c0;
    const int64_t m = byRow ? (r0 + r1) / 2 : (c0 + c1) / 2;  // the middle row or column
    int left = -1, right = -1;
    if (!leaf && byRow) left = self(self, r0, m, c0, c1), right = self(self, m + 1, r1, c0, c1);
    if (!leaf && !byRow) left = self(self, r0, r1, c0, m), right = self(self, r0, r1, m + 1, c1);
    Node& node = nextNode();  // after the children: postorder
    node.left = left, node.right = right;
    const auto add = [&](int64_t r, int64_t c) {
      if (grid.unknown(r, c) >= 0) node.own.push_back(grid.unknown(r, c));
    };
    if (leaf) {
      for (int64_t r = r0; r < r1; ++r)
        for (int64_t c = c0; c < c1; ++c) add(r, c);
    } else if (byRow) {
      for (int64_t c = c0; c < c1; ++c) add(m, c);
    } else {
      for (int64_t r = r0; r < r1; ++r) add(r, m);
    }
    grid.boundaryOf(r0, r1, c0, c1, node.boundary);
    return int(used_) - 1;
  };
  build(build, 0, s.h, 0, s.w);
}

// Each node's boundary in the order of its parent's front (own, then boundary), parents first: a
// child's update then adds into the parent's lower triangle column by column without comparing
// positions (the extend-add was half of the factorisation's own time when it compared). A child's
// boundary lies in its parent's front, so it is read off the parent's front in order (a marked
// pass, linear) rather than sorted; the order is the same.
void NestedDissection::orderBoundaries(size_t unknowns) {
  std::vector<int>& mark = mark_;  // the child whose boundary holds an unknown
  mark.assign(unknowns, -1);
  std::vector<int64_t>& ordered = ordered_;
  for (size_t t = used_; t-- > 0;) {
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
  pos_.assign(s.pixels.size(), -1);
  stack_.clear(), stackTop_.clear();
  size_t lSize = 0;
  for (size_t t = 0; t < used_; ++t) lSize += nodes_[t].own.size() * (nodes_[t].own.size() + nodes_[t].boundary.size());
  lStore_.resize(lSize);
  size_t lNext = 0;
  for (size_t t = 0; t < used_; ++t) {
    Node& node = nodes_[t];
    const size_t k = node.own.size(), m = node.boundary.size(), f = k + m;
    for (size_t i = 0; i < k; ++i) pos_[size_t(node.own[i])] = int64_t(i);
    for (size_t i = 0; i < m; ++i) pos_[size_t(node.boundary[i])] = int64_t(k + i);
    // The front: column-major, only its lower triangle is used, zeroed and read. Zero-filled
    // where it grows (rarely), since the Schur tiles that cross the diagonal also update entries
    // above it, which are never read but must hold numbers.
    if (work_.size() < f * f) work_.resize(f * f);
    double* front = work_.data();
    for (size_t c = 0; c < f; ++c) std::fill(front + c * f + c, front + (c + 1) * f, 0.0);
    assembleOwn(s, node.own, pos_, front, f);
    addChildUpdates(node, front, f);
    if (!partialCholesky(front, f, k)) return false;
    stackTop_.push_back(stack_.size());  // this front's update, on top of the stack
    stack_.resize(stack_.size() + m * m);
    double* update = stack_.data() + stackTop_.back();
    for (size_t c = 0; c < m; ++c)
      for (size_t i = c; i < m; ++i) update[i + c * m] = front[(k + i) + (k + c) * f];
    node.l = lNext;
    std::copy(front, front + f * k, lStore_.data() + lNext);
    lNext += f * k;
    for (int64_t u : node.own) pos_[size_t(u)] = -1;
    for (int64_t u : node.boundary) pos_[size_t(u)] = -1;
  }
  return true;
}

// The children's updates extend-added into the front and popped (the right child's is on top).
void NestedDissection::addChildUpdates(const Node& node, double* front, size_t f) {
  for (int child : {node.right, node.left}) {
    if (child < 0) continue;
    const std::vector<int64_t>& cb = nodes_[size_t(child)].boundary;
    childPos_.resize(cb.size());
    for (size_t a = 0; a < cb.size(); ++a) childPos_[a] = size_t(pos_[size_t(cb[a])]);
    extendAdd(front, f, childPos_, stack_.data() + stackTop_.back(), cb.size());
    stack_.resize(stackTop_.back());
    stackTop_.pop_back();
  }
}

std::vector<double> NestedDissection::solve(std::vector<double> b) const {
  solveInterleaved(b, 1);
  return b;
}

void NestedDissection::solveInterleaved(std::vector<double>& x, size_t nc) const {
  std::vector<double> buf;
  for (size_t t = 0; t < used_; ++t) {  // L y = b, children first
    const Node& node = nodes_[t];
    const size_t k = node.own.size(), f = k + node.boundary.size();
    gatherFront(node.own, node.boundary, x, nc, buf);
    for (size_t c = 0; c < nc; ++c) forwardFront(lStore_.data() + node.l, f, k, &buf[c * f]);
    scatterFront(node.own, node.boundary, f, buf, nc, x);
  }
  for (size_t t = used_; t-- > 0;) {  // L^T x = y, parents first
    const Node& node = nodes_[t];
    const size_t k = node.own.size(), f = k + node.boundary.size();
    gatherFront(node.own, node.boundary, x, nc, buf);
    for (size_t c = 0; c < nc; ++c) backwardFront(lStore_.data() + node.l, f, k, &buf[c * f]);
    scatterFront(node.own, node.boundary, k, buf, nc, x);
  }
}

}  // namespace fs::analysis::imputation
