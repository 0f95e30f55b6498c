/* SPDX-License-Identifier: MIT */
/*
 * awgd's seccomp allow-list: once the interface, sockets and threads exist, the engine needs
 * only packet I/O, its UAPI socket, memory and thread synchronisation. Everything else (files,
 * exec, new sockets of other kinds, module loading, ptrace, ...) fails with EPERM, in every
 * thread, so a packet-parsing bug cannot reach them.
 */
#ifndef _AWG_ENGINE_SANDBOX_H
#define _AWG_ENGINE_SANDBOX_H

/* Loads the filter into every thread of the process (TSYNC) and sets no_new_privs. 0/-errno. */
int awg_sandbox_enter(void);

#endif /* _AWG_ENGINE_SANDBOX_H */
