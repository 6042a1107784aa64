/* Finding (or, for demo/dev, generating) the master key that seals Depot's secrets. */
#ifndef DEPOT_MASTER_KEY_H
#define DEPOT_MASTER_KEY_H

#include <stddef.h>
#include <stdint.h>
#include "store.h"

/* Name of the systemd credential (LoadCredential=depot-master-key:...). */
#define DEPOT_MASTER_KEY_CREDENTIAL "depot-master-key"
/* Environment variable naming a key file. */
#define DEPOT_MASTER_KEY_ENV "DEPOT_MASTER_KEY_FILE"
/* The development key inside the data dir. */
#define DEPOT_MASTER_KEY_DEV_FILE "master.key"
/* Prefix of `source` when the development key was used: the caller must warn loudly. */
#define DEPOT_MASTER_KEY_SOURCE_DEV "data dir "

/* Loads the master key, first found wins:
 *   1. $CREDENTIALS_DIRECTORY/depot-master-key (systemd credential), if that file exists;
 *   2. the file named by $DEPOT_MASTER_KEY_FILE, if the variable is set (a missing or bad
 *      file is then an error, never a reason to fall through);
 *   3. only if allow_generate (demo/dev) and data_dir is given: <data_dir>/master.key,
 *      created with 32 fresh random bytes (mode 0600, fsync'd, written as 64 hex
 *      characters) if absent.
 * A key file holds exactly 32 raw bytes or 64 hex characters (optionally followed by a
 * newline), is a regular file, and must not be accessible by "other" users.
 * On DEPOT_OK key holds the key and source (if given) says where it came from, e.g.
 * "systemd credential /run/credentials/depotd.service/depot-master-key",
 * "DEPOT_MASTER_KEY_FILE /etc/depot/master.key", "data dir ./var/master.key" or
 * "data dir ./var/master.key (generated now)" — never the key itself.
 * On error key is zeroed and err (if given) holds a one-line reason: DEPOT_E_NOT_FOUND if
 * no key is configured and generation is not allowed, DEPOT_E_INVALID for a bad key file,
 * DEPOT_E_IO for a file that cannot be read or created, DEPOT_E_CRYPTO for an RNG failure. */
depot_err depot_master_key_load(const char *data_dir, int allow_generate,
                                uint8_t key[DEPOT_MASTER_KEY_LEN], char *source,
                                size_t sourcelen, char *err, size_t errlen);

#endif
