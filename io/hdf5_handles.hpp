// RAII ownership of HDF5 identifiers (hid_t), so every file, group, dataset, dataspace, type
// and property list is closed on every path, including when an exception unwinds.
//
// This header does not include <hdf5.h> (only .cpp files do), so it spells the id type as
// std::int64_t and the close functions as int(std::int64_t): that is exactly hid_t and
// herr_t(hid_t) in HDF5 1.10, and io/recorder.cpp static_asserts it. Usage:
//     h5::Handle space(H5Screate(H5S_SCALAR), H5Sclose);
#pragma once

#include <cstdint>
#include <utility>

namespace exoderm::h5 {

using Id = std::int64_t;         // hid_t
using CloseFunction = int (*)(Id); // H5Fclose, H5Gclose, H5Dclose, H5Sclose, H5Tclose, ...

class Handle {
public:
    Handle() = default;
    Handle(Id id, CloseFunction close) noexcept : id_(id), close_(close) {}
    ~Handle() { (void)close(); }

    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;
    Handle(Handle&& other) noexcept : id_(std::exchange(other.id_, -1)), close_(other.close_) {}
    Handle& operator=(Handle&& other) noexcept {
        if (this != &other) {
            (void)close();
            id_ = std::exchange(other.id_, -1);
            close_ = other.close_;
        }
        return *this;
    }

    Id get() const noexcept { return id_; }
    bool valid() const noexcept { return id_ >= 0; }

    // Closes now. Returns false if HDF5 reported a failure: closing a file writes its
    // metadata, so a full disk can surface here and the caller that cares must check.
    bool close() noexcept {
        if (id_ < 0 || close_ == nullptr) {
            id_ = -1;
            return true;
        }
        const int status = close_(std::exchange(id_, -1));
        return status >= 0;
    }

private:
    Id id_ = -1;
    CloseFunction close_ = nullptr;
};

} // namespace exoderm::h5
