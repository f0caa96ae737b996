// Result<T>: a value or an Error that carries errno and a context chain ("outer: inner").
// Errors are values; nothing on the container start path throws.
#pragma once

#include <cerrno>
#include <charconv>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace berth {

class [[nodiscard]] Error {
  public:
    Error() = default;
    explicit Error(int errno_value) : errno_(errno_value) {}
    // An errno captured from a failed call: what() then ends with its strerror text.
    static Error from_errno(int errno_value) {
        Error e(errno_value);
        e.syscall_ = true;
        return e;
    }
    Error(int errno_value, std::string msg) : errno_(errno_value), msg_(std::move(msg)) {}

    int errno_value() const { return errno_; }
    const std::string& message() const { return msg_; }
    // The message with strerror appended when an errno is set.
    std::string what() const;

    // Prefixes context: wrap("creating cgroup") gives "creating cgroup: <old message>".
    Error&& wrap(std::string_view context) &&;
    Error& wrap(std::string_view context) &;

    Error& operator<<(std::string_view s) & {
        msg_.append(s);
        return *this;
    }
    Error&& operator<<(std::string_view s) && {
        msg_.append(s);
        return std::move(*this);
    }
    Error& operator<<(const char* s) & {
        msg_.append(s);
        return *this;
    }
    Error&& operator<<(const char* s) && {
        msg_.append(s);
        return std::move(*this);
    }
    Error& operator<<(const std::string& s) & {
        msg_.append(s);
        return *this;
    }
    Error&& operator<<(const std::string& s) && {
        msg_.append(s);
        return std::move(*this);
    }
    Error& operator<<(char c) & {
        msg_.push_back(c);
        return *this;
    }
    Error&& operator<<(char c) && {
        msg_.push_back(c);
        return std::move(*this);
    }
    template <typename N>
    requires std::is_arithmetic_v<N> Error& operator<<(N n) & {
        append_number(n);
        return *this;
    }
    template <typename N>
    requires std::is_arithmetic_v<N> Error && operator<<(N n) && {
        append_number(n);
        return std::move(*this);
    }
    Error& operator<<(const Error& inner) &;
    Error&& operator<<(const Error& inner) && {
        *this << inner;
        return std::move(*this);
    }

  private:
    template <typename N>
    void append_number(N n) {
        char buf[32];
        auto r = std::to_chars(buf, buf + sizeof(buf), n);
        msg_.append(buf, r.ptr);
    }
    int errno_ = 0;
    bool syscall_ = false;
    std::string msg_;
};

// Captures errno at the point of construction.
inline Error ErrnoError() {
    return Error::from_errno(errno);
}

template <typename T>
class [[nodiscard]] Result {
  public:
    Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
    Result(Error err) : v_(std::in_place_index<1>, std::move(err)) {}
    template <typename U>
    requires(std::is_constructible_v<T, U&&> && !std::is_same_v<std::decay_t<U>, Error> &&
             !std::is_same_v<std::decay_t<U>, Result>) Result(U&& u)
        : v_(std::in_place_index<0>, T(std::forward<U>(u))) {}

    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }
    T& value() & { return std::get<0>(v_); }
    const T& value() const& { return std::get<0>(v_); }
    T&& value() && { return std::get<0>(std::move(v_)); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    Error& error() & { return std::get<1>(v_); }
    const Error& error() const& { return std::get<1>(v_); }
    Error&& error() && { return std::get<1>(std::move(v_)); }

  private:
    std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
  public:
    Result() = default;
    Result(Error err) : err_(std::move(err)), ok_(false) {}
    bool ok() const { return ok_; }
    explicit operator bool() const { return ok_; }
    void value() const {}
    Error& error() & { return err_; }
    const Error& error() const& { return err_; }
    Error&& error() && { return std::move(err_); }

  private:
    Error err_;
    bool ok_ = true;
};

// Unwraps a Result or returns its error from the enclosing function.
#define BERTH_TRY(expr)                                                 \
    ({                                                                  \
        auto&& berth_try_r_ = (expr);                                   \
        if (!berth_try_r_.ok()) return std::move(berth_try_r_).error(); \
        std::move(berth_try_r_).value();                                \
    })

// Same, adding context in front of the error message.
#define BERTH_TRY_CTX(expr, ctx)                                                  \
    ({                                                                            \
        auto&& berth_try_r_ = (expr);                                             \
        if (!berth_try_r_.ok()) return std::move(berth_try_r_).error().wrap(ctx); \
        std::move(berth_try_r_).value();                                          \
    })

}  // namespace berth
