/* SPDX-License-Identifier: MIT */
/*
 * Tunnel names and where their configs live: `awg-tunnel up NAME` reads
 * /etc/amneziawg/NAME.conf, `awg-tunnel up PATH.conf` reads PATH; either way the tunnel (and
 * interface) name is the file's base name without ".conf".
 */
#ifndef _AWG_TUNNEL_NAME_H
#define _AWG_TUNNEL_NAME_H

#include <stdbool.h>
#include <stddef.h>

#define AWG_TUNNEL_CONF_DIR "/etc/amneziawg"
/* A Linux interface name holds at most 15 bytes (IFNAMSIZ - 1). */
#define AWG_TUNNEL_NAME_MAX 15

/*
 * The name rules: 1-15 bytes of [a-zA-Z0-9_=+.-], not starting or ending with '.', and not a
 * name Windows reserves (CON, PRN, AUX, NUL, COM1-9, LPT1-9, any case), so a config moves
 * between the two products unchanged. On failure why (if not NULL) says which rule failed.
 */
bool awg_tunnel_name_valid(const char *name, const char **why);

/*
 * Resolves an argument to a config path and tunnel name. An argument with a '/' or ending in
 * ".conf" is a path; anything else is a name looked up in conf_dir (NULL: AWG_TUNNEL_CONF_DIR).
 * path must hold 4096 bytes, name AWG_TUNNEL_NAME_MAX + 1. Returns 0 or -EINVAL with *why set.
 */
int awg_tunnel_name_resolve(const char *arg, const char *conf_dir, char *path, char *name,
			    const char **why);

#endif /* _AWG_TUNNEL_NAME_H */
