// Error types thrown inside core and caught once at each boundary (CLI main, UI job).
#pragma once

#include <stdexcept>
#include <string>

namespace zfvis {

/// A runtime failure: bad file, unsupported op, shape mismatch. CLI exit code 1.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A usage error: bad command line, unknown option value. CLI exit code 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Thrown by long core calls when their ProgressSink reports cancellation.
class Cancelled : public std::runtime_error {
 public:
  Cancelled() : std::runtime_error("cancelled") {}
};

}  // namespace zfvis
