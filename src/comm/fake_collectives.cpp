// The in-process fake Collectives: G ranks that are threads of one process (see collectives.hpp).
//
// Every collective runs in two phases separated by barriers: each rank publishes its buffers and
// the call's signature; after the first barrier every rank reads the others' inputs and writes
// only its own output; the second barrier keeps every input alive until all ranks have read it.
// A rank whose signature (kind, count, type, op, root) differs from the others' makes every rank
// throw, as a mismatched MPI call would hang or corrupt. Asynchronous calls complete at once.
#include <condition_variable>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "host_reduce.hpp"
#include "mpitune/comm/collectives.hpp"
#include "mpitune/core/error.hpp"

namespace mpitune {
namespace {

class FakeHub {
 public:
  explicit FakeHub(int size) : size_(size), slots_(static_cast<size_t>(size)) {}

  int size() const { return size_; }

  void barrier() {
    std::unique_lock<std::mutex> lock(mutex_);
    const uint64_t gen = generation_;
    if (++arrived_ == size_) {
      arrived_ = 0;
      ++generation_;
      cv_.notify_all();
    } else {
      cv_.wait(lock, [&] { return generation_ != gen; });
    }
  }

  struct Slot {
    std::string signature;
    const void* in = nullptr;
  };

  // Phase one of a collective: publish, wait for everyone, check the signatures agree.
  void publish(int rank, const std::string& signature, const void* in) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      slots_[static_cast<size_t>(rank)] = {signature, in};
    }
    barrier();
    for (int r = 0; r < size_; ++r) {
      if (slots_[static_cast<size_t>(r)].signature != signature) {
        const std::string other = slots_[static_cast<size_t>(r)].signature;
        barrier();  // nobody leaves while another still reads the slots
        throw InfraError("fake collectives: rank " + std::to_string(rank) + " called " + signature +
                         " while rank " + std::to_string(r) + " called " + other);
      }
    }
  }
  const void* input_of(int rank) const { return slots_[static_cast<size_t>(rank)].in; }

  void post(int from, int to, std::vector<uint8_t> bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    mail_[{from, to}].push_back(std::move(bytes));
    mail_cv_.notify_all();
  }
  std::vector<uint8_t> take(int from, int to) {
    std::unique_lock<std::mutex> lock(mutex_);
    auto& box = mail_[{from, to}];
    mail_cv_.wait(lock, [&] { return !box.empty(); });
    std::vector<uint8_t> bytes = std::move(box.front());
    box.pop_front();
    return bytes;
  }

 private:
  int size_;
  std::mutex mutex_;
  std::condition_variable cv_, mail_cv_;
  int arrived_ = 0;
  uint64_t generation_ = 0;
  std::vector<Slot> slots_;
  std::map<std::pair<int, int>, std::deque<std::vector<uint8_t>>> mail_;
};

class DonePending final : public PendingCollective {
 public:
  void wait() override {}
};

std::string signature(const char* kind, size_t count, DType t, int extra = -1) {
  return std::string(kind) + "(" + std::to_string(count) + " x " + dtype_name(t) +
         (extra >= 0 ? ", " + std::to_string(extra) : "") + ")";
}

class FakeCollectives final : public Collectives {
 public:
  FakeCollectives(std::shared_ptr<FakeHub> hub, int rank) : hub_(std::move(hub)), rank_(rank) {}

  int rank() const override { return rank_; }
  int size() const override { return hub_->size(); }
  std::string backend() const override { return "fake"; }

  void all_gather(const void* in, void* out, size_t count, DType t) override {
    hub_->publish(rank_, signature("all_gather", count, t), in);
    const size_t block = count * dtype_size(t);
    for (int r = 0; r < size(); ++r)
      std::memcpy(static_cast<uint8_t*>(out) + block * static_cast<size_t>(r), hub_->input_of(r), block);
    hub_->barrier();
  }

  std::unique_ptr<PendingCollective> all_gather_async(const void* in, void* out, size_t count,
                                                      DType t) override {
    all_gather(in, out, count, t);
    return std::make_unique<DonePending>();
  }

  void reduce_scatter(const void* in, void* out, size_t count, DType t, ReduceOp op) override {
    check_reducible(t);
    hub_->publish(rank_, signature("reduce_scatter", count, t, static_cast<int>(op)), in);
    const size_t block = count * dtype_size(t);
    const size_t mine = block * static_cast<size_t>(rank_);
    // Ranks in order 0..G-1, so every rank reduces in the same order.
    std::memcpy(out, static_cast<const uint8_t*>(hub_->input_of(0)) + mine, block);
    for (int r = 1; r < size(); ++r)
      host_reduce_into(out, static_cast<const uint8_t*>(hub_->input_of(r)) + mine, count, t, op);
    hub_->barrier();
  }

  std::unique_ptr<PendingCollective> reduce_scatter_async(const void* in, void* out, size_t count,
                                                          DType t, ReduceOp op) override {
    reduce_scatter(in, out, count, t, op);
    return std::make_unique<DonePending>();
  }

  void all_reduce(void* buf, size_t count, DType t, ReduceOp op) override {
    check_reducible(t);
    hub_->publish(rank_, signature("all_reduce", count, t, static_cast<int>(op)), buf);
    const size_t bytes = count * dtype_size(t);
    std::vector<uint8_t> acc(bytes);
    if (bytes) std::memcpy(acc.data(), hub_->input_of(0), bytes);
    for (int r = 1; r < size(); ++r) host_reduce_into(acc.data(), hub_->input_of(r), count, t, op);
    hub_->barrier();  // every rank has read every buffer: now each may overwrite its own
    if (bytes) std::memcpy(buf, acc.data(), bytes);
  }

  void broadcast(void* buf, size_t count, DType t, int root) override {
    MPITUNE_CHECK(root >= 0 && root < size(), "broadcast root out of range");
    hub_->publish(rank_, signature("broadcast", count, t, root), buf);
    if (rank_ != root) std::memcpy(buf, hub_->input_of(root), count * dtype_size(t));
    hub_->barrier();
  }

  void send(const void* buf, size_t count, DType t, int peer) override {
    MPITUNE_CHECK(peer >= 0 && peer < size() && peer != rank_, "send peer out of range");
    const auto* p = static_cast<const uint8_t*>(buf);
    hub_->post(rank_, peer, std::vector<uint8_t>(p, p + count * dtype_size(t)));
  }

  void recv(void* buf, size_t count, DType t, int peer) override {
    MPITUNE_CHECK(peer >= 0 && peer < size() && peer != rank_, "recv peer out of range");
    const std::vector<uint8_t> bytes = hub_->take(peer, rank_);
    if (bytes.size() != count * dtype_size(t))
      throw InfraError("fake collectives: rank " + std::to_string(rank_) + " expected " +
                       std::to_string(count * dtype_size(t)) + " bytes from rank " + std::to_string(peer) +
                       " but got " + std::to_string(bytes.size()));
    if (!bytes.empty()) std::memcpy(buf, bytes.data(), bytes.size());
  }

  void barrier() override {
    hub_->publish(rank_, "barrier", nullptr);
    hub_->barrier();
  }

 private:
  static void check_reducible(DType t) {
    if (!host_reducible(t))
      throw InfraError(std::string("fake collectives cannot reduce ") + dtype_name(t) +
                       " (as Open MPI: convert 16-bit floats to fp32 before reducing)");
  }

  std::shared_ptr<FakeHub> hub_;
  int rank_;
};

}  // namespace

std::vector<std::shared_ptr<Collectives>> make_fake_group(int size) {
  MPITUNE_CHECK(size >= 1, "a fake group needs at least one rank");
  auto hub = std::make_shared<FakeHub>(size);
  std::vector<std::shared_ptr<Collectives>> out;
  for (int r = 0; r < size; ++r) out.push_back(std::make_shared<FakeCollectives>(hub, r));
  return out;
}

}  // namespace mpitune
