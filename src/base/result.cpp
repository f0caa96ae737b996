#include "base/result.h"

namespace berth {

std::string Error::what() const {
    std::string s = msg_;
    if (errno_ != 0 && syscall_) {
        if (!s.empty()) s += ": ";
        s += strerror(errno_);
    }
    return s;
}

Error& Error::wrap(std::string_view context) & {
    std::string s(context);
    if (!msg_.empty()) {
        s += ": ";
        s += msg_;
    }
    msg_ = std::move(s);
    return *this;
}

Error&& Error::wrap(std::string_view context) && {
    return std::move(wrap(context));
}

Error& Error::operator<<(const Error& inner) & {
    msg_ += inner.what();
    if (errno_ == 0) errno_ = inner.errno_value();  // its text is already in the message
    return *this;
}

}  // namespace berth
