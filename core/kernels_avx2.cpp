// avx2 kernels: not written yet; the scalar reference serves meanwhile.
#include "core/kernels.hpp"

namespace supervent::core {
const Kernels* avx2_kernels_if_supported() { return nullptr; }
}  // namespace supervent::core
