// Received bytes, handed to JavaScript without a copy. Not zero-filled (MPI writes every
// byte), and large ones aligned to 2 MiB with transparent huge pages asked for: the page
// faults of fresh memory otherwise cost more than the broadcast itself.
#pragma once
#include <sys/mman.h>

#include <cstdint>
#include <cstdlib>
#include <memory>

namespace mpilock {

class Payload {
 public:
  explicit Payload(size_t size) : size_(size) {
    constexpr size_t kHuge = size_t{2} << 20;
    if (size >= kHuge) {
      size_t rounded = (size + kHuge - 1) / kHuge * kHuge;
      data_ = static_cast<uint8_t*>(std::aligned_alloc(kHuge, rounded));
      if (data_) madvise(data_, rounded, MADV_HUGEPAGE);
    } else {
      data_ = static_cast<uint8_t*>(std::malloc(size > 0 ? size : 1));
    }
    if (!data_) throw std::bad_alloc();
  }
  ~Payload() { std::free(data_); }
  Payload(const Payload&) = delete;
  Payload& operator=(const Payload&) = delete;

  uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  uint8_t* data_ = nullptr;
  size_t size_;
};

}  // namespace mpilock
