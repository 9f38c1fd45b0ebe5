//! The wasm exports and host imports of Guest ABI v1. `export_agent!`
//! expands to the exports, which call into this module; nothing here is
//! public API.

use std::cell::RefCell;

use crate::abi;
use crate::runtime::{Handler, Runtime};

/// Makes `$init` the agent of this module: it defines the exports the host
/// calls (`_initialize`, `caxton_abi_version`, `caxton_alloc`,
/// `caxton_handle`) for wasm32, and evaluates `$init` once, when the host
/// starts the instance. Use it once, at the top level of a `cdylib` crate:
///
/// ```ignore
/// struct Counter { n: u64 }
/// impl caxton::Handler for Counter { /* ... */ }
/// caxton::export_agent!(Counter { n: 0 });
/// ```
///
/// On other targets (host-side `cargo test` of the agent) it defines no
/// exports and only checks that `$init` is a `Handler`; test the agent
/// with `caxton::testing::Harness`.
#[macro_export]
macro_rules! export_agent {
    ($init:expr) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            #[export_name = "_initialize"]
            extern "C" fn __caxton_initialize() {
                $crate::__export::initialize(|| $init)
            }
            #[export_name = "caxton_abi_version"]
            extern "C" fn __caxton_abi_version() -> i32 {
                $crate::__export::abi_version()
            }
            #[export_name = "caxton_alloc"]
            extern "C" fn __caxton_alloc(size: u32) -> u32 {
                $crate::__export::alloc(size)
            }
            #[export_name = "caxton_handle"]
            extern "C" fn __caxton_handle(ptr: u32, len: u32) -> i64 {
                $crate::__export::handle(ptr, len, || $init)
            }
        };
        #[cfg(not(target_arch = "wasm32"))]
        #[allow(dead_code)]
        fn __caxton_agent() -> impl $crate::Handler {
            $init
        }
    };
}

#[derive(Default)]
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
struct State {
    agent: Option<Box<dyn Handler>>,
    inbound: Vec<u8>,
    rt: Runtime,
}

thread_local! {
    // A wasm instance is single-threaded and runs one agent.
    static STATE: RefCell<State> = RefCell::new(State::default());
}

#[cfg(target_arch = "wasm32")]
extern "C" {
    // Defined by wasm-ld: runs the static constructors (wasi-libc's). A
    // reference to it tells wasm-ld that this module calls them itself,
    // once, instead of wrapping every export in constructor and destructor
    // calls as it does for WASI commands.
    fn __wasm_call_ctors();
}

/// `_initialize`: the toolchain's constructors, then the agent.
pub fn initialize<H: Handler + 'static>(init: impl FnOnce() -> H) {
    #[cfg(target_arch = "wasm32")]
    unsafe {
        __wasm_call_ctors()
    };
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        if s.agent.is_none() {
            s.agent = Some(Box::new(init()));
        }
    });
}

/// `caxton_abi_version`.
pub fn abi_version() -> i32 {
    abi::VERSION
}

/// `caxton_alloc`: a buffer of at least `size` bytes, kept (and reused)
/// until a larger one is asked for; 0 when memory is out.
pub fn alloc(size: u32) -> u32 {
    STATE.with(|s| {
        let inbound = &mut s.borrow_mut().inbound;
        let size = size as usize;
        if size > inbound.len() {
            *inbound = Vec::new(); // the old contents need not survive
            if inbound.try_reserve_exact(size).is_err() {
                return 0;
            }
            inbound.resize(size, 0);
        }
        inbound.as_mut_ptr() as usize as u32
    })
}

/// `caxton_handle`: the batch at `[ptr, ptr+len)` must lie in the buffer
/// `alloc` returned; the result is the packed outbox or a status.
#[cfg(target_arch = "wasm32")]
pub fn handle<H: Handler + 'static>(ptr: u32, len: u32, init: impl FnOnce() -> H) -> i64 {
    STATE.with(|s| {
        let s = &mut *s.borrow_mut();
        let State { agent, inbound, rt } = s;
        let base = inbound.as_ptr() as usize;
        let (start, end) = (ptr as usize, ptr as usize + len as usize);
        if start < base || end > base + inbound.len() {
            return abi::STATUS_BAD_INPUT; // not where the host was told to write
        }
        let batch = &inbound[start - base..end - base];
        let agent = agent.get_or_insert_with(|| Box::new(init()));
        let status = rt.dispatch(agent.as_mut(), &mut WasmHost, batch);
        if status != 0 || rt.outbox.count == 0 {
            return status;
        }
        ((rt.outbox.buf.as_ptr() as usize as i64) << 32) | rt.outbox.buf.len() as i64
    })
}

/// The host's imports, bound to module "caxton". (Other targets have no
/// host to import from: agents are exercised there through
/// testing::Harness, whose host is a value.)
#[cfg(target_arch = "wasm32")]
struct WasmHost;

#[cfg(target_arch = "wasm32")]
mod imports {
    #[link(wasm_import_module = "caxton")]
    extern "C" {
        #[link_name = "log"]
        pub fn log(level: i32, ptr: *const u8, len: u32);
        #[link_name = "now"]
        pub fn now() -> i64;
        #[link_name = "tool_call"]
        pub fn tool_call(name: *const u8, name_len: u32, args: *const u8, args_len: u32, out: *mut u8, out_cap: u32) -> i64;
    }
}

#[cfg(target_arch = "wasm32")]
impl crate::context::Host for WasmHost {
    fn log(&mut self, level: i32, text: &str) {
        unsafe { imports::log(level, text.as_ptr(), text.len() as u32) }
    }

    fn now(&mut self) -> i64 {
        unsafe { imports::now() }
    }

    fn tool_call(&mut self, name: &str, args: &[u8], out: &mut [u8]) -> (u32, usize) {
        let r = unsafe {
            imports::tool_call(name.as_ptr(), name.len() as u32, args.as_ptr(), args.len() as u32, out.as_mut_ptr(), out.len() as u32)
        };
        ((r as u64 >> 32) as u32, r as u32 as usize)
    }
}
