//! Brotli's working memory, kept by each thread for its next page instead of going back to
//! the heap after every page.
//!
//! At quality 5 the encoder asks for a 1 MiB hash table per page, plus a few buffers of
//! 32–86 KiB. Under the traffic benchmark the page cache compresses about 300 pages a second
//! (bench/RESULTS.md). From the heap, those blocks land among the cache's long-lived entries
//! and push the heap up as they come and go. From `mmap` (glibc's threshold set below 1 MiB,
//! see the binary's `memory` module), each page paid for fresh zeroed pages and an unmap:
//! 15–30 % more CPU per request and a p99 of 60–70 ms instead of about 40. Kept here, they
//! are allocated once per thread.

use std::any::{Any, TypeId};
use std::cell::RefCell;

use brotli::{Allocator, SliceWrapper, SliceWrapperMut};

/// Blocks at least this large are kept for reuse; smaller ones come and go from the heap.
const KEEP_FROM_BYTES: usize = 32 * 1024;

/// Larger blocks are not kept: quality 11 (the assets, once at start-up) takes tens of MiB.
const KEEP_UP_TO_BYTES: usize = 2 * 1024 * 1024;

/// Most one thread keeps, in all (a page at quality 5 uses about 1.4 MiB in such blocks).
const KEEP_AT_MOST_BYTES: usize = 2 * 1024 * 1024;

thread_local! {
    static KEPT: RefCell<Vec<Kept>> = const { RefCell::new(Vec::new()) };
}

/// A block waiting for its next page.
struct Kept {
    of: TypeId,
    capacity: usize,
    bytes: usize,
    /// A `Box<[T]>` for the `T` named by `of`.
    block: Box<dyn Any>,
}

/// An allocator for brotli's encoder that takes large blocks from, and gives them back to,
/// this thread's store. Output is byte for byte what the standard allocator gives.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Reusing;

/// A block handed to the encoder: the first `len` elements of a possibly larger one.
pub(crate) struct Block<T> {
    block: Box<[T]>,
    len: usize,
}

impl<T> Default for Block<T> {
    fn default() -> Self {
        Self {
            block: Box::new([]),
            len: 0,
        }
    }
}

impl<T> SliceWrapper<T> for Block<T> {
    fn slice(&self) -> &[T] {
        &self.block[..self.len]
    }
}

impl<T> SliceWrapperMut<T> for Block<T> {
    fn slice_mut(&mut self) -> &mut [T] {
        &mut self.block[..self.len]
    }
}

impl<T: Clone + Default + 'static> Allocator<T> for Reusing {
    type AllocatedMemory = Block<T>;

    fn alloc_cell(&mut self, len: usize) -> Block<T> {
        if size_of::<T>().saturating_mul(len) >= KEEP_FROM_BYTES
            && let Some(mut block) = take::<T>(len)
        {
            // The encoder expects fresh blocks filled with defaults (zeros), as from calloc.
            block[..len].fill(T::default());
            return Block { block, len };
        }
        Block {
            block: vec![T::default(); len].into_boxed_slice(),
            len,
        }
    }

    fn free_cell(&mut self, cell: Block<T>) {
        let capacity = cell.block.len();
        let bytes = size_of::<T>().saturating_mul(capacity);
        if !(KEEP_FROM_BYTES..=KEEP_UP_TO_BYTES).contains(&bytes) {
            return;
        }
        KEPT.with_borrow_mut(|kept| {
            // The oldest go first: sizes that follow the page's length rotate, fixed ones
            // (the hash table) come straight back.
            while !kept.is_empty()
                && kept.iter().map(|k| k.bytes).sum::<usize>() + bytes > KEEP_AT_MOST_BYTES
            {
                kept.remove(0);
            }
            kept.push(Kept {
                of: TypeId::of::<T>(),
                capacity,
                bytes,
                block: Box::new(cell.block),
            });
        });
    }
}

impl brotli::enc::BrotliAlloc for Reusing {}

/// The smallest kept block of `T` that holds `len` elements without wasting more than half.
fn take<T: 'static>(len: usize) -> Option<Box<[T]>> {
    KEPT.with_borrow_mut(|kept| {
        let i = kept
            .iter()
            .enumerate()
            .filter(|(_, k)| {
                k.of == TypeId::of::<T>() && k.capacity >= len && k.capacity / 2 <= len
            })
            .min_by_key(|(_, k)| k.capacity)
            .map(|(i, _)| i)?;
        kept.remove(i).block.downcast::<Box<[T]>>().ok().map(|b| *b)
    })
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn standard(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        {
            let mut w = brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
            w.write_all(data).unwrap();
        }
        out
    }

    #[test]
    fn output_is_the_standard_allocators_and_blocks_come_back() {
        let pages: Vec<Vec<u8>> = (0..6)
            .map(|i| {
                (0..(2_000 + i * 3_000))
                    .map(|n| format!("<p>Bài {n} của trang {i}</p>"))
                    .collect::<String>()
                    .into_bytes()
            })
            .collect();
        for page in pages.iter().chain(pages.iter().rev()) {
            assert_eq!(crate::assets::brotli_reusing(page, 5), standard(page));
        }
        let kept = KEPT.with_borrow(|k| {
            assert!(k.iter().map(|k| k.bytes).sum::<usize>() <= KEEP_AT_MOST_BYTES);
            k.iter()
                .any(|k| k.of == TypeId::of::<u32>() && k.capacity == 1 << 18)
        });
        assert!(kept, "the 1 MiB hash table is kept for the next page");
        // Quality 11's tables are far larger and not kept.
        crate::assets::brotli_reusing(&pages[5], 11);
        let largest = KEPT.with_borrow(|k| k.iter().map(|k| k.bytes).max());
        assert!(largest <= Some(KEEP_UP_TO_BYTES), "{largest:?}");
    }
}
