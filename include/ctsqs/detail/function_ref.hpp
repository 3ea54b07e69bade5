// function_ref: a non-owning, non-allocating reference to a callable (C++26's std::function_ref, minimal).
#pragma once

#include <memory>
#include <type_traits>
#include <utility>

namespace ctsqs::detail {

template <class Signature>
class function_ref;

/// A cheap, copyable reference to any callable with signature `R(Args...)`.
/// It does not own the callable: the callable must outlive every call through the reference.
template <class R, class... Args>
class function_ref<R(Args...)> {
 public:
  template <class F>
    requires(!std::is_same_v<std::remove_cvref_t<F>, function_ref> &&
             std::is_invocable_r_v<R, F&, Args...>)
  function_ref(F&& f) noexcept  // NOLINT(google-explicit-constructor): implicit on purpose
      : obj_(const_cast<void*>(static_cast<const void*>(std::addressof(f)))),
        call_([](void* o, Args... args) -> R {
          return (*static_cast<std::remove_reference_t<F>*>(o))(std::forward<Args>(args)...);
        }) {}

  R operator()(Args... args) const { return call_(obj_, std::forward<Args>(args)...); }

 private:
  void* obj_;
  R (*call_)(void*, Args...);
};

}  // namespace ctsqs::detail
