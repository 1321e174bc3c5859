// Per-document losses of a split (see document_losses.hpp).
#include "mpitune/train/document_losses.hpp"

#include <ATen/ATen.h>

#include <algorithm>

#include "mpitune/comm/collectives.hpp"
#include "mpitune/core/error.hpp"
#include "mpitune/data/token_corpus.hpp"
#include "mpitune/train/gpt_model.hpp"

namespace mpitune {
namespace {

struct Row {
  int64_t start = 0;     // the window's first input token
  int64_t doc = -1;      // -1: padding
};

bool counts(const TokenSplit& s, int64_t p) { return !s.loss_mask || s.loss_mask[p] != 0; }

}  // namespace

Trainable::DocumentLosses document_losses(GptModel& model, const TokenSplit& split, int64_t seq_len, int64_t chunk,
                                          Collectives* group) {
  MPITUNE_CHECK(seq_len >= 1 && chunk >= 1, "document_losses needs seq_len >= 1 and chunk >= 1");
  MPITUNE_CHECK(split.documents > 0 && split.doc_begin, "the split has no documents");
  const int size = group ? group->size() : 1;
  const int rank = group ? group->rank() : 0;

  Trainable::DocumentLosses out;
  out.loss_sums.assign(static_cast<size_t>(split.documents), 0.0);
  out.tokens.assign(static_cast<size_t>(split.documents), 0);
  std::vector<Row> rows;
  for (int64_t d = 0; d < split.documents; ++d) {
    const int64_t b = split.doc_begin[d], e = split.doc_begin[d + 1];
    for (int64_t p = b + 1; p < e; ++p) out.tokens[d] += counts(split, p) ? 1 : 0;
    for (int64_t s = b; s + 1 < e; s += seq_len) rows.push_back({s, d});
  }
  // Every rank runs the same number of rows (and so of forward passes).
  while (rows.size() % static_cast<size_t>(size) != 0) rows.push_back({});
  const int64_t per_rank = static_cast<int64_t>(rows.size()) / size;
  const int64_t first = rank * per_rank;

  for (int64_t c = 0; c < per_rank; c += chunk) {
    const int64_t n = std::min(chunk, per_rank - c);
    at::Tensor inputs = at::zeros({n, seq_len}, at::TensorOptions().dtype(at::kLong));
    at::Tensor targets = at::full({n, seq_len}, -100, at::TensorOptions().dtype(at::kLong));
    int64_t* in = inputs.data_ptr<int64_t>();
    int64_t* tg = targets.data_ptr<int64_t>();
    for (int64_t r = 0; r < n; ++r) {
      const Row& row = rows[static_cast<size_t>(first + c + r)];
      if (row.doc < 0) continue;
      const int64_t e = split.doc_begin[row.doc + 1];
      for (int64_t j = 0; j < seq_len && row.start + j < e; ++j) {
        in[r * seq_len + j] = split.ids[row.start + j];
        const int64_t p = row.start + j + 1;  // the target of position j
        if (p < e && counts(split, p)) tg[r * seq_len + j] = split.ids[p];
      }
    }
    const at::Tensor logits = model.forward_logits(inputs.to(model.device()));  // [n, T, V] fp32
    const int64_t vocab = logits.size(2);
    const at::Tensor per_token = at::cross_entropy_loss(logits.reshape({-1, vocab}), targets.to(model.device()).reshape(-1),
                                                        {}, at::Reduction::None, -100, 0.0);
    const at::Tensor per_row = per_token.reshape({n, seq_len}).sum(1).to(at::kDouble).cpu();
    const double* v = per_row.data_ptr<double>();
    for (int64_t r = 0; r < n; ++r) {
      const Row& row = rows[static_cast<size_t>(first + c + r)];
      if (row.doc >= 0) out.loss_sums[row.doc] += v[r];
    }
  }
  if (size > 1) group->all_reduce(out.loss_sums.data(), out.loss_sums.size(), DType::F64, ReduceOp::Sum);
  return out;
}

}  // namespace mpitune
