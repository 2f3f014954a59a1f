// Detects a file's format from its first bytes (the file name only breaks
// ties), so a model saved with the wrong extension is still recognised.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace mlpack::manifest {

// How many leading bytes detect_format wants to see (fewer is fine for small files).
inline constexpr std::size_t kFormatSniffBytes = 64 * 1024;

// One of: pickle, joblib, pytorch, safetensors, onnx, keras, hdf5, npy, npz,
// zip, json, yaml, text, binary.
std::string detect_format(std::span<const std::uint8_t> head, std::string_view filename);

}  // namespace mlpack::manifest
