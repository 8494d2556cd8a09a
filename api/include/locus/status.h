// locus::Status and locus::Result<T>: how every locus function reports failure.
//
// No exception crosses a public locus boundary. A function that can fail returns a
// [[nodiscard]] Status (or Result<T>), and the caller must look at it. The code set is
// small and stable: the C ABI maps each StatusCode to the identical integer, so the
// numbers below never change meaning once released.
//
// Thread safety: Status and Result are values; distinct objects may be used from
// distinct threads freely, one object must not be mutated concurrently.
#ifndef LOCUS_STATUS_H_
#define LOCUS_STATUS_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "locus/check.h"

namespace locus {

// The stable code set. Values are part of the ABI (locus.h mirrors them as LOCUS_*).
enum class StatusCode : int {
  kOk = 0,                  // success
  kInvalidArgument = 1,     // the caller passed bad input; the message names field and value
  kNotFound = 2,            // a named thing (namespace, object, file) does not exist
  kAlreadyExists = 3,       // creating something that is already there
  kOutOfRange = 4,          // a position or size past a valid end
  kFailedPrecondition = 5,  // the object is in the wrong state for the call (closed, read-only)
  kResourceExhausted = 6,   // a configured limit or memory ran out
  kCorruption = 7,          // stored bytes fail validation (checksum, magic, bounds)
  kIoError = 8,             // the operating system reported an I/O failure
  kUnavailable = 9,         // a transient condition; retrying may succeed
  kInternal = 10,           // a bug in locus; please report it
};

// Returns the upper-snake name of `code` ("INVALID_ARGUMENT"), or "UNKNOWN".
const char* StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  // Creates an OK status. OK statuses allocate nothing.
  Status() noexcept = default;
  // Creates a status with `code` and `message`. REQUIRES: code != kOk (use Status()).
  Status(StatusCode code, std::string_view message);

  Status(const Status& other);
  Status& operator=(const Status& other);
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;

  static Status Ok() { return Status(); }

  bool ok() const { return rep_ == nullptr; }
  StatusCode code() const { return rep_ ? rep_->code : StatusCode::kOk; }
  // Returns the message ("" for OK).
  std::string_view message() const { return rep_ ? std::string_view(rep_->message) : ""; }
  // Returns "OK" or "INVALID_ARGUMENT: <message>".
  std::string ToString() const;

  // Returns a copy whose message is "<context>: <message>"; OK stays OK.
  Status WithContext(std::string_view context) const;

  // Explicitly discards a status the caller has decided not to act on.
  void IgnoreError() const {}

  friend bool operator==(const Status& a, const Status& b) {
    return a.code() == b.code() && a.message() == b.message();
  }

 private:
  struct Rep {
    StatusCode code;
    std::string message;
  };
  std::unique_ptr<const Rep> rep_;
};

// Shorthands for building errors; each takes the full message.
Status InvalidArgumentError(std::string_view message);
Status NotFoundError(std::string_view message);
Status AlreadyExistsError(std::string_view message);
Status OutOfRangeError(std::string_view message);
Status FailedPreconditionError(std::string_view message);
Status ResourceExhaustedError(std::string_view message);
Status CorruptionError(std::string_view message);
Status IoError(std::string_view message);
Status UnavailableError(std::string_view message);
Status InternalError(std::string_view message);

// Either a value of type T or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
  static_assert(!std::is_same_v<std::remove_cv_t<T>, Status>,
                "Result<Status> is meaningless; return Status");

 public:
  // Creates a Result holding `value`.
  Result(const T& value) : value_(value) {}           // NOLINT(runtime/explicit)
  Result(T&& value) : value_(std::move(value)) {}     // NOLINT(runtime/explicit)
  // Creates a Result holding an error. REQUIRES: !status.ok().
  Result(Status status) : status_(std::move(status)) {  // NOLINT(runtime/explicit)
    LOCUS_CHECK_MSG(!status_.ok(), "Result<T> constructed from an OK Status without a value");
  }

  bool ok() const { return status_.ok(); }
  const Status& status() const& { return status_; }
  Status status() && { return std::move(status_); }

  // Returns the value. REQUIRES: ok() (checked: aborting beats undefined behaviour).
  const T& value() const& {
    CheckOk();
    return *value_;
  }
  T& value() & {
    CheckOk();
    return *value_;
  }
  T&& value() && {
    CheckOk();
    return std::move(*value_);
  }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

  // Returns the value, or `fallback` when this holds an error.
  template <typename U>
  T value_or(U&& fallback) const& {
    return ok() ? *value_ : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  void CheckOk() const {
    if (!status_.ok()) {
      internal::CheckFailed(__FILE__, __LINE__, "Result::value() on error",
                            status_.ToString().c_str());
    }
  }

  Status status_;
  std::optional<T> value_;
};

}  // namespace locus

#define LOCUS_INTERNAL_CONCAT_IMPL(a, b) a##b
#define LOCUS_INTERNAL_CONCAT(a, b) LOCUS_INTERNAL_CONCAT_IMPL(a, b)

// Evaluates `expr` (a Status); returns it from the enclosing function if not OK.
#define LOCUS_RETURN_IF_ERROR(expr)                                   \
  do {                                                                \
    ::locus::Status locus_status_internal_ = (expr);                  \
    if (!locus_status_internal_.ok()) return locus_status_internal_; \
  } while (false)

// Evaluates `rexpr` (a Result<T>); on error returns its Status, else moves the value
// into `lhs`, which may be a declaration (`auto x`) or an existing variable.
#define LOCUS_ASSIGN_OR_RETURN(lhs, rexpr) \
  LOCUS_INTERNAL_ASSIGN_OR_RETURN(LOCUS_INTERNAL_CONCAT(locus_result_, __COUNTER__), lhs, rexpr)
#define LOCUS_INTERNAL_ASSIGN_OR_RETURN(tmp, lhs, rexpr) \
  auto tmp = (rexpr);                                    \
  if (!tmp.ok()) return std::move(tmp).status();         \
  lhs = std::move(tmp).value()

#endif  // LOCUS_STATUS_H_
