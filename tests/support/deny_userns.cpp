// cjcrawl-deny-userns COMMAND [ARG...]: runs COMMAND where user namespaces are refused, as a
// container runtime's default seccomp profile (Docker's, containerd's RuntimeDefault) refuses them to
// a process without CAP_SYS_ADMIN. The browser tests use it to show what cjcrawl says when Chrome's
// sandbox cannot have the namespaces it needs (tests/browser/test_sandbox_probe.cpp).
//
// The filter, inherited across fork and exec by COMMAND and everything it starts:
//   unshare and clone whose flags include CLONE_NEWUSER  -> EPERM (as RuntimeDefault answers);
//   clone3                                               -> ENOSYS (its flags sit in a struct a filter
//                                                           cannot read, so glibc falls back to clone);
//   every other call                                     -> allowed.
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>

namespace {

#if defined(__x86_64__)
constexpr std::uint32_t kArch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
constexpr std::uint32_t kArch = AUDIT_ARCH_AARCH64;
#else
#error "cjcrawl-deny-userns knows x86_64 and aarch64 only: add this architecture's AUDIT_ARCH"
#endif

// The filter reads the low 32 bits of the flags argument (CLONE_NEWUSER is 0x10000000).
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the flags' low word is read at the argument's offset");

// x86_64's x32 ABI numbers its calls from here up, under the same AUDIT_ARCH: refused as a whole, so
// its clone cannot slip past the check. No other architecture has numbers this high.
constexpr std::uint32_t kX32SyscallBit = 0x40000000;

constexpr std::uint32_t kArchOffset = offsetof(seccomp_data, arch);
constexpr std::uint32_t kNumberOffset = offsetof(seccomp_data, nr);
constexpr std::uint32_t kFlagsOffset = offsetof(seccomp_data, args);  // args[0]

// Jump offsets count the instructions skipped; the targets are the three returns at the end.
constexpr std::array<sock_filter, 12> kProgram{{
    /*  0 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, kArchOffset),
    /*  1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kArch, 0, 9),  // another ABI (int 0x80): -> 11
    /*  2 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, kNumberOffset),
    /*  3 */ BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, kX32SyscallBit, 7, 0),  // -> 11
    /*  4 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone3, 6, 0),     // -> 11
    /*  5 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_unshare, 1, 0),    // -> 7
    /*  6 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone, 0, 3),      // -> 7, else -> 10
    /*  7 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, kFlagsOffset),
    /*  8 */ BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, CLONE_NEWUSER, 0, 1),  // -> 9, else -> 10
    /*  9 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
    /* 10 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    /* 11 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA)),
}};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fputs("usage: cjcrawl-deny-userns COMMAND [ARG...]\n", stderr);
    return 2;
  }
  // Without CAP_SYS_ADMIN a filter may be installed only by a process that can gain no privileges.
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    std::fprintf(stderr, "cjcrawl-deny-userns: PR_SET_NO_NEW_PRIVS: %s\n", std::strerror(errno));
    return 2;
  }
  auto program = kProgram;  // the kernel takes a non-const pointer
  sock_fprog filter{static_cast<unsigned short>(program.size()), program.data()};
  if (::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &filter, 0, 0) != 0) {
    std::fprintf(stderr, "cjcrawl-deny-userns: PR_SET_SECCOMP: %s\n", std::strerror(errno));
    return 2;
  }
  ::execvp(argv[1], argv + 1);
  std::fprintf(stderr, "cjcrawl-deny-userns: %s: %s\n", argv[1], std::strerror(errno));
  return 127;
}
