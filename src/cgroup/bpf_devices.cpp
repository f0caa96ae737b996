#include "cgroup/bpf_devices.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <limits>

#include "base/unique_fd.h"

namespace berth::cgroup::bpf {
namespace {

// One instruction; the opcode macros come from <linux/bpf.h> (eBPF) and <linux/bpf_common.h>.
bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
    bpf_insn i{};
    i.code = code;
    i.dst_reg = dst & 0xf;
    i.src_reg = src & 0xf;
    i.off = off;
    i.imm = imm;
    return i;
}
bpf_insn ldx_w(uint8_t dst, uint8_t src, int16_t off) {
    return insn(BPF_LDX | BPF_MEM | BPF_W, dst, src, off, 0);
}
bpf_insn alu32_imm(uint8_t op, uint8_t dst, int32_t imm) {
    return insn(BPF_ALU | op | BPF_K, dst, 0, 0, imm);
}
bpf_insn mov32_reg(uint8_t dst, uint8_t src) {
    return insn(BPF_ALU | BPF_MOV | BPF_X, dst, src, 0, 0);
}
bpf_insn mov64_imm(uint8_t dst, int32_t imm) {
    return insn(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm);
}
bpf_insn jmp_imm(uint8_t op, uint8_t dst, int32_t imm, int16_t off) {
    return insn(BPF_JMP | op | BPF_K, dst, 0, off, imm);
}
bpf_insn jmp_reg(uint8_t op, uint8_t dst, uint8_t src, int16_t off) {
    return insn(BPF_JMP | op | BPF_X, dst, src, off, 0);
}
bpf_insn exit_insn() {
    return insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
}

// Registers: r1 the context; r2 device type, r3 requested access, r4 major, r5 minor.
constexpr uint8_t R0 = 0, R1 = 1, R2 = 2, R3 = 3, R4 = 4, R5 = 5;

long sys_bpf(int cmd, bpf_attr* attr) {
    return ::syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

Result<uint32_t> parse_access(const std::string& access, size_t index) {
    if (access.empty()) return kAccessAll;  // as the v1 manager writes it
    uint32_t bits = 0;
    for (char c : access) {
        switch (c) {
            case 'r':
                bits |= kAccessRead;
                break;
            case 'w':
                bits |= kAccessWrite;
                break;
            case 'm':
                bits |= kAccessMknod;
                break;
            default:
                return Error(EINVAL) << "linux.resources.devices[" << index << "].access: `"
                                     << access << "` is not a subset of rwm";
        }
    }
    return bits;
}

Result<std::optional<uint32_t>> parse_number(const std::optional<int64_t>& n, size_t index,
                                             const char* what) {
    if (!n || *n < 0) return std::optional<uint32_t>();
    // The program compares with a sign-extended 32-bit immediate; real device numbers (12-bit
    // majors, 20-bit minors) are far below the limit.
    if (*n > std::numeric_limits<int32_t>::max()) {
        return Error(EINVAL) << "linux.resources.devices[" << index << "]." << what << ": " << *n
                             << " is out of range";
    }
    return std::optional<uint32_t>(static_cast<uint32_t>(*n));
}

bool matches_number(const std::optional<uint32_t>& rule, uint32_t n) {
    return !rule || *rule == n;
}

Result<UniqueFd> open_cgroup(const std::string& dir) {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return ErrnoError() << "open cgroup `" << dir << "`";
    return UniqueFd(fd);
}

struct Query {
    uint32_t attach_flags = 0;
    std::vector<uint32_t> ids;
};

Result<Query> query(BorrowedFd cgroup, const std::string& dir) {
    std::vector<uint32_t> ids(16);
    for (;;) {
        bpf_attr attr{};
        attr.query.target_fd = static_cast<uint32_t>(cgroup.get());
        attr.query.attach_type = BPF_CGROUP_DEVICE;
        attr.query.prog_ids = reinterpret_cast<uintptr_t>(ids.data());
        attr.query.prog_cnt = static_cast<uint32_t>(ids.size());
        if (sys_bpf(BPF_PROG_QUERY, &attr) == 0) {
            ids.resize(attr.query.prog_cnt);
            return Query{attr.query.attach_flags, std::move(ids)};
        }
        // ENOSPC: more programs than room; prog_cnt says how many.
        if (errno != ENOSPC || attr.query.prog_cnt <= ids.size())
            return ErrnoError() << "query device programs of `" << dir << "`";
        ids.resize(attr.query.prog_cnt);
    }
}

Result<UniqueFd> load(const std::vector<bpf_insn>& prog) {
    auto attempt = [&](char* log, uint32_t log_size) {
        bpf_attr attr{};
        attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
        attr.insns = reinterpret_cast<uintptr_t>(prog.data());
        attr.insn_cnt = static_cast<uint32_t>(prog.size());
        // No GPL-only helper is called, so the license need not be GPL-compatible.
        attr.license = reinterpret_cast<uintptr_t>("Apache-2.0");
        std::strncpy(attr.prog_name, "berth_devices", sizeof(attr.prog_name) - 1);
        if (log) {
            attr.log_level = 1;
            attr.log_buf = reinterpret_cast<uintptr_t>(log);
            attr.log_size = log_size;
        }
        return static_cast<int>(sys_bpf(BPF_PROG_LOAD, &attr));
    };
    int fd = attempt(nullptr, 0);
    if (fd >= 0) return UniqueFd(fd);
    int err = errno;
    // Again with the verifier's log, so the error says why.
    std::string log(64 * 1024, '\0');
    if (int fd2 = attempt(log.data(), static_cast<uint32_t>(log.size())); fd2 >= 0)
        return UniqueFd(fd2);
    log.resize(std::strlen(log.c_str()));
    while (!log.empty() && log.back() == '\n') log.pop_back();
    Error e = Error::from_errno(err) << "load device program (" << prog.size() << " instructions)";
    if (!log.empty())
        e << " [verifier: " << log.substr(log.size() > 400 ? log.size() - 400 : 0) << "]";
    return e;
}

}  // namespace

Result<DeviceState> emulate_v1(const std::vector<oci::DeviceCgroup>& rules) {
    DeviceState s;  // deny-all, nothing excepted
    for (size_t i = 0; i < rules.size(); ++i) {
        const oci::DeviceCgroup& rule = rules[i];
        if (rule.type.empty() || rule.type == "a") {
            // Whatever follows the "a" is ignored by the kernel too.
            s = DeviceState{rule.allow, {}};
            continue;
        }
        if (rule.type != "b" && rule.type != "c") {
            return Error(EINVAL) << "linux.resources.devices[" << i << "].type: `" << rule.type
                                 << "` is not a, b or c";
        }
        DeviceException ex;
        ex.type = rule.type[0];
        ex.major = BERTH_TRY(parse_number(rule.major, i, "major"));
        ex.minor = BERTH_TRY(parse_number(rule.minor, i, "minor"));
        ex.access = BERTH_TRY(parse_access(rule.access, i));
        auto same =
            std::find_if(s.exceptions.begin(), s.exceptions.end(), [&](const DeviceException& e) {
                return e.type == ex.type && e.major == ex.major && e.minor == ex.minor;
            });
        if (rule.allow != s.default_allow) {
            if (same != s.exceptions.end())
                same->access |= ex.access;
            else
                s.exceptions.push_back(ex);
        } else if (same != s.exceptions.end()) {
            same->access &= ~ex.access;
            if (same->access == 0) s.exceptions.erase(same);
        }
    }
    return s;
}

bool allows(const DeviceState& s, char type, uint32_t major, uint32_t minor, uint32_t access) {
    for (const DeviceException& e : s.exceptions) {
        if (e.type != type || !matches_number(e.major, major) || !matches_number(e.minor, minor))
            continue;
        // Denials refuse any overlap; allowances must cover the whole request.
        if (s.default_allow ? (access & e.access) != 0 : (access & ~e.access) == 0)
            return !s.default_allow;
    }
    return s.default_allow;
}

std::vector<bpf_insn> device_program(const DeviceState& s) {
    std::vector<bpf_insn> p = {
        ldx_w(R2, R1, offsetof(bpf_cgroup_dev_ctx, access_type)),
        alu32_imm(BPF_AND, R2, 0xffff),  // device type
        ldx_w(R3, R1, offsetof(bpf_cgroup_dev_ctx, access_type)),
        alu32_imm(BPF_RSH, R3, 16),  // requested access
        ldx_w(R4, R1, offsetof(bpf_cgroup_dev_ctx, major)),
        ldx_w(R5, R1, offsetof(bpf_cgroup_dev_ctx, minor)),
    };
    for (const DeviceException& e : s.exceptions) {
        // Each block jumps past its own end on a mismatch: build it, then fix the offsets.
        std::vector<bpf_insn> block;
        std::vector<size_t> jumps;
        auto skip_if = [&](bpf_insn j) {
            jumps.push_back(block.size());
            block.push_back(j);
        };
        skip_if(jmp_imm(BPF_JNE, R2, e.type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR, 0));
        if (e.access != kAccessAll) {
            block.push_back(mov32_reg(R1, R3));
            block.push_back(alu32_imm(BPF_AND, R1, static_cast<int32_t>(e.access)));
            if (s.default_allow) {
                skip_if(jmp_imm(BPF_JEQ, R1, 0, 0));  // denial: no overlap, no match
            } else {
                skip_if(jmp_reg(BPF_JNE, R1, R3, 0));  // allowance: must cover the request
            }
        }
        if (e.major) skip_if(jmp_imm(BPF_JNE, R4, static_cast<int32_t>(*e.major), 0));
        if (e.minor) skip_if(jmp_imm(BPF_JNE, R5, static_cast<int32_t>(*e.minor), 0));
        block.push_back(mov64_imm(R0, s.default_allow ? 0 : 1));
        block.push_back(exit_insn());
        for (size_t j : jumps) block[j].off = static_cast<int16_t>(block.size() - j - 1);
        p.insert(p.end(), block.begin(), block.end());
    }
    p.push_back(mov64_imm(R0, s.default_allow ? 1 : 0));
    p.push_back(exit_insn());
    return p;
}

Result<std::vector<uint32_t>> attached_device_programs(const std::string& cgroup_dir) {
    UniqueFd cg = BERTH_TRY(open_cgroup(cgroup_dir));
    Query q = BERTH_TRY(query(cg, cgroup_dir));
    return std::move(q.ids);
}

Result<void> attach_device_program(const std::string& cgroup_dir,
                                   const std::vector<bpf_insn>& prog) {
    UniqueFd cg = BERTH_TRY(open_cgroup(cgroup_dir));
    Query old = BERTH_TRY(query(cg, cgroup_dir));
    UniqueFd fd = BERTH_TRY(load(prog));

    // A program attached without ALLOW_MULTI is replaced by attaching in the same mode.
    bool exclusive = !old.ids.empty() && !(old.attach_flags & BPF_F_ALLOW_MULTI);
    bpf_attr attr{};
    attr.target_fd = static_cast<uint32_t>(cg.get());
    attr.attach_bpf_fd = static_cast<uint32_t>(fd.get());
    attr.attach_type = BPF_CGROUP_DEVICE;
    attr.attach_flags = exclusive ? 0 : BPF_F_ALLOW_MULTI;
    if (sys_bpf(BPF_PROG_ATTACH, &attr) != 0)
        return ErrnoError() << "attach device program to `" << cgroup_dir << "`";
    if (exclusive) return {};

    // Both filters apply until the old ones go: the window is stricter, never looser.
    for (uint32_t id : old.ids) {
        bpf_attr get{};
        get.prog_id = id;
        UniqueFd old_fd(static_cast<int>(sys_bpf(BPF_PROG_GET_FD_BY_ID, &get)));
        if (!old_fd) {
            if (errno == ENOENT) continue;  // gone meanwhile
            return ErrnoError() << "open device program " << id << " of `" << cgroup_dir << "`";
        }
        bpf_attr detach{};
        detach.target_fd = static_cast<uint32_t>(cg.get());
        detach.attach_bpf_fd = static_cast<uint32_t>(old_fd.get());
        detach.attach_type = BPF_CGROUP_DEVICE;
        if (sys_bpf(BPF_PROG_DETACH, &detach) != 0 && errno != ENOENT)
            return ErrnoError() << "detach old device program " << id << " from `" << cgroup_dir
                                << "`";
    }
    return {};
}

Result<void> apply_device_rules(const std::string& cgroup_dir,
                                const std::vector<oci::DeviceCgroup>& rules) {
    DeviceState s = BERTH_TRY(emulate_v1(rules));
    return attach_device_program(cgroup_dir, device_program(s));
}

}  // namespace berth::cgroup::bpf
