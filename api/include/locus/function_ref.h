// FunctionRef<R(Args...)>: a non-owning, non-allocating reference to a callable, for
// callbacks that do not outlive the call that receives them (query visitors and sinks:
// locus::HitVisitor in locus/db.h, the engine's id and pair sinks).
//
// Thread safety: a value type; calling it is as thread-safe as the referenced callable.
#ifndef LOCUS_FUNCTION_REF_H_
#define LOCUS_FUNCTION_REF_H_

#include <memory>
#include <type_traits>
#include <utility>

namespace locus {

template <typename Signature>
class FunctionRef;

template <typename R, typename... Args>
class FunctionRef<R(Args...)> {
 public:
  // REQUIRES: `f` outlives every call through this FunctionRef.
  template <typename F, typename = std::enable_if_t<
                            !std::is_same_v<std::remove_cvref_t<F>, FunctionRef> &&
                            std::is_invocable_r_v<R, F&, Args...>>>
  FunctionRef(F&& f)  // NOLINT(google-explicit-constructor)
      : object_(const_cast<void*>(static_cast<const void*>(std::addressof(f)))),
        call_([](void* object, Args... args) -> R {
          return (*static_cast<std::remove_reference_t<F>*>(object))(std::forward<Args>(args)...);
        }) {}

  R operator()(Args... args) const { return call_(object_, std::forward<Args>(args)...); }

 private:
  void* object_;
  R (*call_)(void*, Args...);
};

}  // namespace locus

#endif  // LOCUS_FUNCTION_REF_H_
