// SPDX-License-Identifier: MIT
// Keys in awg(8): genkey, genpsk, pubkey and reading key files.
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "awg.h"
#include "crypto.h"
#include "parse.h"

/* genkey and genpsk warn, as wg does, when the key lands in a file others may read. */
static void warn_world_accessible(void)
{
	struct stat st;

	if (fstat(STDOUT_FILENO, &st) || !S_ISREG(st.st_mode) || !(st.st_mode & S_IRWXO))
		return;
	fputs("Warning: writing to world accessible file.\n"
	      "Consider setting the umask to 077 and trying again.\n", stderr);
}

int awg_genkey_main(int argc, char *argv[])
{
	char b64[AWG_CRYPTO_KEY_B64_LEN + 1];
	uint8_t key[AWG_KEY_LEN];

	if (argc != 1) {
		fprintf(stderr, "Usage: %s %s\n", PROG_NAME, argv[0]);
		return 1;
	}
	warn_world_accessible();
	if (!strcmp(argv[0], "genkey"))
		awg_x25519_generate(key);
	else
		awg_random_bytes(key, sizeof(key));
	awg_key_to_base64(b64, key);
	awg_wipe(key, sizeof(key));
	puts(b64);
	awg_wipe(b64, sizeof(b64));
	return fflush(stdout) ? 1 : 0;
}

/* Reads the 44 key characters of stdin; only whitespace (and NULs) may follow, like wg. */
static int read_stdin_key(char b64[AWG_CRYPTO_KEY_B64_LEN + 1])
{
	int c;

	if (fread(b64, 1, AWG_CRYPTO_KEY_B64_LEN, stdin) != AWG_CRYPTO_KEY_B64_LEN) {
		fprintf(stderr, "%s: Key is not the correct length or format\n", PROG_NAME);
		return -EINVAL;
	}
	b64[AWG_CRYPTO_KEY_B64_LEN] = '\0';
	while ((c = getc(stdin)) != EOF) {
		if (c && !awg_char_is_space(c)) {
			fprintf(stderr, "%s: Trailing characters found after key\n", PROG_NAME);
			return -EINVAL;
		}
	}
	return 0;
}

int awg_pubkey_main(int argc, char *argv[])
{
	char b64[AWG_CRYPTO_KEY_B64_LEN + 1];
	uint8_t priv[AWG_KEY_LEN], pub[AWG_KEY_LEN];
	int ret = 1;

	if (argc != 1) {
		fprintf(stderr, "Usage: %s %s\n", PROG_NAME, argv[0]);
		return 1;
	}
	if (read_stdin_key(b64))
		goto out;
	if (awg_parse_key_base64(priv, b64, AWG_CRYPTO_KEY_B64_LEN)) {
		fprintf(stderr, "%s: Key is not the correct length or format\n", PROG_NAME);
		goto out;
	}
	awg_x25519_public(pub, priv);
	awg_key_to_base64(b64, pub);
	puts(b64);
	ret = fflush(stdout) ? 1 : 0;
out:
	awg_wipe(priv, sizeof(priv));
	awg_wipe(b64, sizeof(b64));
	return ret;
}

int awg_keys_read_file(uint8_t key[AWG_KEY_LEN], const char *path)
{
	char buf[AWG_CRYPTO_KEY_B64_LEN + 2];
	size_t n;
	FILE *f;
	int c, ret = -EINVAL;

	f = fopen(path, "r");
	if (!f) {
		ret = -errno;
		fprintf(stderr, "%s: `%s': %s\n", PROG_NAME, path, strerror(-ret));
		return ret;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	while (n && awg_char_is_space((unsigned char)buf[n - 1]))
		n--;
	/* Anything but whitespace after the key makes it too long. */
	while (n == AWG_CRYPTO_KEY_B64_LEN && (c = fgetc(f)) != EOF) {
		if (!awg_char_is_space(c))
			n++;
	}
	fclose(f);
	if (!n) {
		memset(key, 0, AWG_KEY_LEN);
		ret = 0;
	} else if (n != AWG_CRYPTO_KEY_B64_LEN) {
		fprintf(stderr, "Invalid length key in key file `%s'\n", path);
	} else if (awg_parse_key_base64(key, buf, n)) {
		fprintf(stderr, "Key is not the correct length or format in key file `%s'\n", path);
	} else {
		ret = 0;
	}
	awg_wipe(buf, sizeof(buf));
	return ret;
}
