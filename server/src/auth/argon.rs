//! Argon2 with memory the caller owns: each hasher thread keeps one block
//! buffer, mapped straight from the kernel, for as long as jobs keep
//! coming and unmaps it when it goes idle. `argon2`'s own `hash_password`
//! allocates 19 MiB per call through malloc, and glibc's thread arenas then
//! kept those blocks: RSS rose to 220-355 MB after any burst and stayed.
//!
//! Hashes are PHC strings as `argon2`'s `PasswordHasher` writes them, and
//! verification compares outputs in constant time (`password_hash::Output`).

use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};

/// Largest memory cost a stored hash may ask for (KiB): a hash from
/// elsewhere cannot make a thread map more than this.
const MAX_M_KIB: u32 = 1 << 20;

/// Argon2 blocks in an anonymous private mapping, unmapped when dropped.
pub struct BlockBuf {
    /// Start of the mapping.
    ptr: *mut Block,
    /// Blocks it holds.
    len: usize,
}

// SAFETY: the mapping is owned by this value alone; moving it to another
// thread moves the only pointer to it.
unsafe impl Send for BlockBuf {}

impl BlockBuf {
    /// A zeroed buffer of `len` blocks, or `None` if the kernel refuses.
    pub fn new(len: usize) -> Option<BlockBuf> {
        let bytes = len.checked_mul(std::mem::size_of::<Block>())?.max(1);
        // SAFETY: an anonymous private mapping with no address hint; the
        // result is checked against MAP_FAILED before any use.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                bytes,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return None;
        }
        Some(BlockBuf { ptr: ptr.cast(), len })
    }

    /// Blocks it holds.
    pub fn len(&self) -> usize {
        self.len
    }
}

impl AsMut<[Block]> for BlockBuf {
    fn as_mut(&mut self) -> &mut [Block] {
        // SAFETY: the mapping is page-aligned (more than Block's 64), holds
        // `len` blocks, starts zeroed (a valid Block is any bit pattern of
        // u64s) and lives as long as `self`, which this borrow cannot outlive.
        unsafe { std::slice::from_raw_parts_mut(self.ptr, self.len) }
    }
}

impl Drop for BlockBuf {
    fn drop(&mut self) {
        let bytes = (self.len * std::mem::size_of::<Block>()).max(1);
        // SAFETY: unmaps exactly the mapping made in `new`, once.
        unsafe { libc::munmap(self.ptr.cast(), bytes) };
    }
}

/// A buffer of at least `blocks` blocks, reusing `buf` when it is big enough.
pub fn buffer(buf: &mut Option<BlockBuf>, blocks: usize) -> Result<&mut BlockBuf, String> {
    if buf.as_ref().is_none_or(|b| b.len() < blocks) {
        *buf = None; // unmap the old one first
        *buf = Some(BlockBuf::new(blocks).ok_or("cannot map memory for a password hash")?);
    }
    buf.as_mut().ok_or_else(|| "no hash buffer".into())
}

/// A new PHC string for `password` with a random 16-byte salt.
pub fn hash(params: &Params, buf: &mut Option<BlockBuf>, password: &str) -> Result<String, String> {
    let mut salt = [0u8; 16];
    getrandom::getrandom(&mut salt).map_err(|e| format!("no randomness for a salt: {e}"))?;
    let salt_b64 = SaltString::encode_b64(&salt).map_err(|e| format!("salt: {e}"))?;
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let blocks = buffer(buf, params.block_count())?;
    let len = params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
    let output = Output::init_with(len, |out| {
        argon
            .hash_password_into_with_memory(password.as_bytes(), &salt, out, &mut *blocks)
            .map_err(|_| argon2::password_hash::Error::Crypto)
    })
    .map_err(|e| format!("hashing failed: {e}"))?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(params).map_err(|e| format!("parameters: {e}"))?,
        salt: Some(salt_b64.as_salt()),
        hash: Some(output),
    };
    Ok(phc.to_string())
}

/// Whether `password` matches `phc`. An unreadable `phc` is a mismatch.
pub fn verify(buf: &mut Option<BlockBuf>, phc: &str, password: &str) -> bool {
    match check(buf, phc, password) {
        Ok(ok) => ok,
        Err(e) => {
            log::warn!("a stored password hash is unusable ({e}); login refused");
            false
        }
    }
}

fn check(buf: &mut Option<BlockBuf>, phc: &str, password: &str) -> Result<bool, String> {
    let hash = PasswordHash::new(phc).map_err(|e| e.to_string())?;
    let algorithm = Algorithm::try_from(hash.algorithm).map_err(|e| e.to_string())?;
    let version = match hash.version {
        Some(v) => Version::try_from(v).map_err(|e| e.to_string())?,
        None => Version::default(),
    };
    let params = Params::try_from(&hash).map_err(|e| e.to_string())?;
    if params.m_cost() > MAX_M_KIB {
        return Err(format!("memory cost {} KiB is over {MAX_M_KIB}", params.m_cost()));
    }
    let (Some(salt), Some(expected)) = (hash.salt, hash.hash) else {
        return Err("no salt or no hash".into());
    };
    let mut salt_bytes = [0u8; 64];
    let salt = salt.decode_b64(&mut salt_bytes).map_err(|e| e.to_string())?;
    let blocks = buffer(buf, params.block_count())?;
    let argon = Argon2::new(algorithm, version, params);
    let got = Output::init_with(expected.len(), |out| {
        argon
            .hash_password_into_with_memory(password.as_bytes(), salt, out, &mut *blocks)
            .map_err(|_| argon2::password_hash::Error::Crypto)
    })
    .map_err(|e| e.to_string())?;
    Ok(got == expected) // constant time
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::{PasswordHasher, PasswordVerifier, SaltString as Salt};

    fn cheap() -> Params {
        Params::new(64, 2, 1, None).unwrap()
    }

    #[test]
    fn our_hashes_are_argon2s_and_argon2s_are_ours() {
        let mut buf = None;
        let phc = hash(&cheap(), &mut buf, "correct horse").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=64,t=2,p=1$"), "{phc}");
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, cheap());
        let parsed = PasswordHash::new(&phc).unwrap();
        assert!(argon.verify_password(b"correct horse", &parsed).is_ok(), "argon2 agrees");
        let salt = Salt::from_b64("c2FsdHNhbHRzYWx0").unwrap();
        let theirs = argon.hash_password(b"battery staple", &salt).unwrap().to_string();
        assert!(verify(&mut buf, &theirs, "battery staple"));
        assert!(!verify(&mut buf, &theirs, "battery stapler"));
        assert!(verify(&mut buf, &phc, "correct horse"));
        assert!(!verify(&mut buf, &phc, ""));
    }

    #[test]
    fn the_buffer_is_reused_and_grows_only_when_needed() {
        let mut buf = None;
        hash(&cheap(), &mut buf, "one").unwrap();
        let first = buf.as_ref().map(|b| b.ptr);
        hash(&cheap(), &mut buf, "two").unwrap();
        assert_eq!(buf.as_ref().map(|b| b.ptr), first, "the same mapping");
        let bigger = Params::new(128, 1, 1, None).unwrap();
        hash(&bigger, &mut buf, "three").unwrap();
        assert_eq!(buf.as_ref().map(|b| b.len()), Some(128));
    }

    #[test]
    fn unusable_hashes_are_mismatches() {
        let mut buf = None;
        for bad in [
            "",
            "$argon2id$",
            "plain",
            "$argon2id$v=19$m=2000000,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
        ] {
            assert!(!verify(&mut buf, bad, "x"), "{bad}");
        }
    }
}
