#include "mpitune/core/protocol.hpp"

#include <cstring>
#include <type_traits>

#include "mpitune/core/error.hpp"

namespace mpitune {
namespace {

class Writer {
 public:
  void u8(uint8_t v) { out_.push_back(v); }
  void u32(uint32_t v) { raw(&v, 4); }
  void i64(int64_t v) { raw(&v, 8); }
  void f64(double v) { raw(&v, 8); }
  void str(const std::string& s) {
    u32(static_cast<uint32_t>(s.size()));
    out_.insert(out_.end(), s.begin(), s.end());
  }
  void hparams(const HParams& hp) {
    u32(static_cast<uint32_t>(hp.size()));
    for (const auto& [name, value] : hp.entries()) {
      str(name);
      // Keep the type: 0 double, 1 int, 2 string.
      if (value.is_string()) {
        u8(2);
        str(value.as_string());
      } else if (value.is_int()) {
        u8(1);
        i64(value.as_int());
      } else {
        u8(0);
        f64(value.as_double());
      }
    }
  }
  void metrics(const ReportMetrics& m) {
    f64(m.train_loss), f64(m.eval_loss), f64(m.retention_loss), f64(m.lr), i64(m.tokens), f64(m.throughput), f64(m.loss_scale);
  }
  std::vector<uint8_t> take() { return std::move(out_); }

 private:
  // Little-endian on every machine mpitune runs on (x86-64, aarch64); asserted at compile time.
  void raw(const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    out_.insert(out_.end(), b, b + n);
  }
  std::vector<uint8_t> out_;
};
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the protocol encoding assumes little-endian");

class Reader {
 public:
  Reader(const uint8_t* d, size_t n) : d_(d), n_(n) {}
  uint8_t u8() { return *take(1); }
  uint32_t u32() { return get<uint32_t>(); }
  int64_t i64() { return get<int64_t>(); }
  double f64() { return get<double>(); }
  std::string str() {
    const uint32_t n = u32();
    const uint8_t* p = take(n);
    return std::string(reinterpret_cast<const char*>(p), n);
  }
  HParams hparams() {
    HParams hp;
    const uint32_t n = u32();
    for (uint32_t i = 0; i < n; ++i) {
      std::string name = str();
      const uint8_t kind = u8();
      if (kind == 2) hp.set(name, ParamValue(str()));
      else if (kind == 1) hp.set(name, ParamValue(i64()));
      else if (kind == 0) hp.set(name, ParamValue(f64()));
      else throw InfraError("protocol: bad hyperparameter kind " + std::to_string(kind));
    }
    return hp;
  }
  ReportMetrics metrics() {
    ReportMetrics m;
    m.train_loss = f64(), m.eval_loss = f64(), m.retention_loss = f64(), m.lr = f64(), m.tokens = i64(), m.throughput = f64(),
    m.loss_scale = f64();
    return m;
  }
  void expect_end() const {
    if (pos_ != n_) throw InfraError("protocol: " + std::to_string(n_ - pos_) + " trailing bytes");
  }

 private:
  template <typename T>
  T get() {
    T v;
    std::memcpy(&v, take(sizeof(T)), sizeof(T));
    return v;
  }
  const uint8_t* take(size_t k) {
    if (pos_ + k > n_) throw InfraError("protocol: message truncated");
    const uint8_t* p = d_ + pos_;
    pos_ += k;
    return p;
  }
  const uint8_t* d_;
  size_t n_;
  size_t pos_ = 0;
};

template <class... Ts>
struct Overload : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overload(Ts...) -> Overload<Ts...>;

}  // namespace

const char* segment_init_name(SegmentInit i) {
  switch (i) {
    case SegmentInit::Fresh: return "fresh";
    case SegmentInit::Continue: return "continue";
    case SegmentInit::Resume: return "resume";
    case SegmentInit::Clone: return "clone";
  }
  return "?";
}

const char* message_name(const Message& m) {
  static const char* names[] = {"Ready",      "Segment",  "Report",     "SegmentDone",    "TrialFailed",
                                "StopTrial",  "Shutdown", "Checkpoint", "CheckpointDone", "SendState",
                                "StateReceived", "FinalEval", "FinalEvalDone", "Preempt", "Preempted", "Heartbeat",
                                "PeriodicCheckpoint", "ReleaseState"};
  static_assert(sizeof(names) / sizeof(names[0]) == std::variant_size_v<Message>, "a name per message");
  return names[m.index()];
}

std::vector<uint8_t> encode(const Message& m) {
  Writer w;
  w.u8(kProtocolVersion);
  w.u8(static_cast<uint8_t>(m.index()));
  std::visit(Overload{
                 [&](const ReadyMsg& r) { w.i64(r.group); },
                 [&](const SegmentMsg& s) {
                   w.i64(s.trial), w.hparams(s.hparams), w.i64(s.start), w.i64(s.stop), w.i64(s.max_steps);
                   w.i64(static_cast<int64_t>(s.seed)), w.u8(static_cast<uint8_t>(s.init));
                   w.i64(s.source_trial), w.i64(s.source_group), w.str(s.checkpoint);
                   w.f64(s.checkpoint_every_s), w.str(s.checkpoint_prefix);
                 },
                 [&](const ReportMsg& r) { w.i64(r.group), w.i64(r.trial), w.i64(r.step), w.metrics(r.metrics); },
                 [&](const SegmentDoneMsg& d) {
                   w.i64(d.group), w.i64(d.trial), w.i64(d.step), w.metrics(d.metrics), w.f64(d.seconds);
                   w.u8(d.interrupted ? 1 : 0);
                 },
                 [&](const TrialFailedMsg& f) {
                   w.i64(f.group), w.i64(f.trial), w.i64(f.step), w.str(f.reason), w.f64(f.seconds);
                 },
                 [&](const StopTrialMsg& s) { w.i64(s.trial), w.str(s.reason), w.u8(s.evaluate ? 1 : 0); },
                 [&](const ShutdownMsg& s) { w.str(s.reason); },
                 [&](const CheckpointMsg& c) { w.i64(c.trial), w.str(c.dir), w.u8(c.cache ? 1 : 0); },
                 [&](const CheckpointDoneMsg& c) {
                   w.i64(c.group), w.i64(c.trial), w.i64(c.step), w.f64(c.seconds), w.i64(c.cached_bytes);
                 },
                 [&](const SendStateMsg& c) { w.i64(c.trial), w.i64(c.target_group), w.i64(c.target_trial); },
                 [&](const StateReceivedMsg& c) {
                   w.i64(c.group), w.i64(c.trial), w.i64(c.source_trial), w.i64(c.source_group), w.i64(c.step);
                   w.i64(c.bytes), w.f64(c.seconds), w.u8(c.ok ? 1 : 0), w.str(c.reason);
                 },
                 [&](const FinalEvalMsg& f) {
                   w.str(f.label), w.i64(f.trial), w.hparams(f.hparams), w.i64(static_cast<int64_t>(f.seed));
                   w.i64(f.max_steps), w.str(f.checkpoint), w.u8(f.held ? 1 : 0);
                 },
                 [&](const FinalEvalDoneMsg& f) {
                   w.i64(f.group), w.str(f.label), w.i64(f.trial), w.i64(f.step), w.f64(f.eval_loss);
                   w.f64(f.retention_loss), w.u32(static_cast<uint32_t>(f.doc_loss_sums.size()));
                   for (double v : f.doc_loss_sums) w.f64(v);
                   w.u32(static_cast<uint32_t>(f.doc_tokens.size()));
                   for (int64_t v : f.doc_tokens) w.i64(v);
                   w.f64(f.seconds), w.u8(f.ok ? 1 : 0), w.str(f.reason);
                 },
                 [&](const PreemptMsg& p) { w.i64(p.trial), w.str(p.dir); },
                 [&](const PreemptedMsg& p) {
                   w.i64(p.group), w.i64(p.trial), w.i64(p.step), w.u8(p.ok ? 1 : 0), w.str(p.reason), w.f64(p.seconds);
                 },
                 [&](const HeartbeatMsg& h) { w.i64(h.group); },
                 [&](const ReleaseStateMsg& r) { w.i64(r.trial); },
                 [&](const PeriodicCheckpointMsg& p) {
                   w.i64(p.group), w.i64(p.trial), w.i64(p.step), w.str(p.dir), w.f64(p.seconds);
                 },
             },
             m);
  return w.take();
}

Message decode(const uint8_t* data, size_t size) {
  Reader r(data, size);
  const uint8_t version = r.u8();
  if (version != kProtocolVersion)
    throw InfraError("protocol: message version " + std::to_string(version) + ", this build speaks " +
                     std::to_string(kProtocolVersion) + "; run the same mpitune build on every rank");
  const uint8_t type = r.u8();
  Message m;
  switch (type) {
    case 0: m = ReadyMsg{static_cast<int>(r.i64())}; break;
    case 1: {
      SegmentMsg s;
      s.trial = r.i64(), s.hparams = r.hparams(), s.start = r.i64(), s.stop = r.i64(), s.max_steps = r.i64();
      s.seed = static_cast<uint64_t>(r.i64());
      const uint8_t init = r.u8();
      if (init > 3) throw InfraError("protocol: bad segment init " + std::to_string(init));
      s.init = static_cast<SegmentInit>(init);
      s.source_trial = r.i64(), s.source_group = static_cast<int>(r.i64()), s.checkpoint = r.str();
      s.checkpoint_every_s = r.f64(), s.checkpoint_prefix = r.str();
      m = std::move(s);
      break;
    }
    case 2: {
      ReportMsg p;
      p.group = static_cast<int>(r.i64()), p.trial = r.i64(), p.step = r.i64(), p.metrics = r.metrics();
      m = p;
      break;
    }
    case 3: {
      SegmentDoneMsg d;
      d.group = static_cast<int>(r.i64()), d.trial = r.i64(), d.step = r.i64(), d.metrics = r.metrics();
      d.seconds = r.f64(), d.interrupted = r.u8() != 0;
      m = d;
      break;
    }
    case 4: {
      TrialFailedMsg f;
      f.group = static_cast<int>(r.i64()), f.trial = r.i64(), f.step = r.i64(), f.reason = r.str(),
      f.seconds = r.f64();
      m = std::move(f);
      break;
    }
    case 5: {
      StopTrialMsg s;
      s.trial = r.i64(), s.reason = r.str(), s.evaluate = r.u8() != 0;
      m = std::move(s);
      break;
    }
    case 6: m = ShutdownMsg{r.str()}; break;
    case 7: {
      CheckpointMsg c;
      c.trial = r.i64(), c.dir = r.str(), c.cache = r.u8() != 0;
      m = std::move(c);
      break;
    }
    case 8: {
      CheckpointDoneMsg c;
      c.group = static_cast<int>(r.i64()), c.trial = r.i64(), c.step = r.i64(), c.seconds = r.f64();
      c.cached_bytes = r.i64();
      m = c;
      break;
    }
    case 9: {
      SendStateMsg c;
      c.trial = r.i64(), c.target_group = static_cast<int>(r.i64()), c.target_trial = r.i64();
      m = c;
      break;
    }
    case 10: {
      StateReceivedMsg c;
      c.group = static_cast<int>(r.i64()), c.trial = r.i64(), c.source_trial = r.i64();
      c.source_group = static_cast<int>(r.i64()), c.step = r.i64(), c.bytes = r.i64(), c.seconds = r.f64();
      c.ok = r.u8() != 0, c.reason = r.str();
      m = std::move(c);
      break;
    }
    case 11: {
      FinalEvalMsg f;
      f.label = r.str(), f.trial = r.i64(), f.hparams = r.hparams(), f.seed = static_cast<uint64_t>(r.i64());
      f.max_steps = r.i64(), f.checkpoint = r.str(), f.held = r.u8() != 0;
      m = std::move(f);
      break;
    }
    case 12: {
      FinalEvalDoneMsg f;
      f.group = static_cast<int>(r.i64()), f.label = r.str(), f.trial = r.i64(), f.step = r.i64();
      f.eval_loss = r.f64(), f.retention_loss = r.f64();
      f.doc_loss_sums.resize(r.u32());
      for (double& v : f.doc_loss_sums) v = r.f64();
      f.doc_tokens.resize(r.u32());
      for (int64_t& v : f.doc_tokens) v = r.i64();
      f.seconds = r.f64(), f.ok = r.u8() != 0, f.reason = r.str();
      m = std::move(f);
      break;
    }
    case 13: {
      PreemptMsg p;
      p.trial = r.i64(), p.dir = r.str();
      m = std::move(p);
      break;
    }
    case 14: {
      PreemptedMsg p;
      p.group = static_cast<int>(r.i64()), p.trial = r.i64(), p.step = r.i64(), p.ok = r.u8() != 0;
      p.reason = r.str(), p.seconds = r.f64();
      m = std::move(p);
      break;
    }
    case 15: m = HeartbeatMsg{static_cast<int>(r.i64())}; break;
    case 16: {
      PeriodicCheckpointMsg p;
      p.group = static_cast<int>(r.i64()), p.trial = r.i64(), p.step = r.i64(), p.dir = r.str(), p.seconds = r.f64();
      m = std::move(p);
      break;
    }
    case 17: m = ReleaseStateMsg{r.i64()}; break;
    default: throw InfraError("protocol: unknown message type " + std::to_string(type));
  }
  r.expect_end();
  return m;
}

}  // namespace mpitune
