// SPDX-License-Identifier: MIT
/* Owns awgd's seccomp allow-list (see sandbox.h). */
#include "sandbox.h"

#include <errno.h>
#include <seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>

/*
 * What the running engine calls: the packet path (read/write on the TUN, recvmmsg/sendmmsg,
 * epoll, eventfd), the UAPI server (accept4, recv/send on its connections, inotify), timers and
 * signals (signalfd), rebinding the UDP port on a UAPI listen_port change (socket, bind,
 * setsockopt, getsockname), the MTU look-up (ioctl), memory, threads (futex, yield) and exit.
 * libc and libcrypto use a few more (getrandom for reseeding, clock_nanosleep, rseq, madvise).
 */
static const int allowed[] = {
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev), SCMP_SYS(close),
	SCMP_SYS(recvmmsg), SCMP_SYS(sendmmsg), SCMP_SYS(recvmsg), SCMP_SYS(sendmsg),
	SCMP_SYS(recvfrom), SCMP_SYS(sendto),
	SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait), SCMP_SYS(epoll_pwait2), SCMP_SYS(epoll_ctl),
	SCMP_SYS(poll), SCMP_SYS(ppoll),
	SCMP_SYS(accept4), SCMP_SYS(socket), SCMP_SYS(bind), SCMP_SYS(setsockopt),
	SCMP_SYS(getsockopt), SCMP_SYS(getsockname), SCMP_SYS(ioctl), SCMP_SYS(fcntl),
	SCMP_SYS(shutdown),
	SCMP_SYS(futex), SCMP_SYS(sched_yield), SCMP_SYS(nanosleep), SCMP_SYS(clock_nanosleep),
	SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday),
	SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mprotect), SCMP_SYS(mremap), SCMP_SYS(brk),
	SCMP_SYS(madvise),
	SCMP_SYS(getrandom), SCMP_SYS(getpid), SCMP_SYS(gettid), SCMP_SYS(tgkill),
	SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigaction),
	SCMP_SYS(rseq), SCMP_SYS(set_robust_list),
	SCMP_SYS(exit), SCMP_SYS(exit_group), SCMP_SYS(restart_syscall),
	SCMP_SYS(newfstatat), SCMP_SYS(fstat), SCMP_SYS(lseek),
	/* Removing our own UAPI socket file at shutdown. */
	SCMP_SYS(unlink), SCMP_SYS(unlinkat),
};

int awg_sandbox_enter(void)
{
	scmp_filter_ctx ctx;
	int ret = -ENOMEM;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	if (!ctx)
		return ret;
	ret = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	for (size_t i = 0; !ret && i < sizeof(allowed) / sizeof(allowed[0]); i++)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed[i], 0);
	if (!ret)
		ret = seccomp_load(ctx);
	seccomp_release(ctx);
	return ret;
}
