// Views of box memory that V8 does not count as external memory (Node on Linux only).
//
// An ArrayBuffer made through Node-API over memory it does not own counts its whole length
// towards V8's "external memory" budget, and V8 starts a garbage collection whenever that count
// grows by more than 64 MiB above its lowest point since the last one: every view of a 64 MiB
// box, in every thread, set off a collection (most of the time of handing 64 MiB to readers on
// Node). A view of box memory allocates nothing (the pool is mapped once), so this file makes
// the ArrayBuffer through V8's own embedder API with V8's empty deleter, which V8 does not count
// (it cannot free anything), and learns when V8 lets go of the memory through the shared
// pointer it hands over. The buffer is an ordinary, detachable ArrayBuffer: the JS layer detaches
// it before its box is reused, as for any other view.
//
// The same API moves a task's bytes result to the host without copying it (as postMessage's
// transfer list does): see `warden_v8_take` at the end.
//
// The addon also loads into Bun and into a Node built differently, so nothing here is linked
// against V8: the few functions needed are looked up by name in the process at run time (by
// src/boxes.rs), and a null result sends the caller back to Node-API. Nothing here throws or allocates through the
// C++ runtime: the shared pointer's control block is allocated with malloc.

#include <cstddef>
#include <cstdlib>
#include <memory>
#include <new>

namespace v8 {
class Isolate;
class Value;
class ArrayBuffer;
class BackingStore;
// Same layout and calling convention as v8::Local<T>: one pointer, trivially copyable.
template <class T>
struct Local {
  T* val_;
};
}  // namespace v8

namespace {

// Never runs: the unique_ptr V8 returns is released at once (only its layout matters).
struct Keep {
  void operator()(v8::BackingStore*) const noexcept {}
};

using Deleter = void (*)(void*, size_t, void*);
using NewStore = std::unique_ptr<v8::BackingStore, Keep> (*)(void*, size_t, Deleter, void*);
using NewBuffer = v8::Local<v8::ArrayBuffer> (*)(v8::Isolate*, std::shared_ptr<v8::BackingStore>);
using Current = v8::Isolate* (*)();
using Destroy = void (*)(v8::BackingStore*);
using Free = void (*)(void*);
// Same layout as v8::Maybe<bool>.
struct MaybeBool {
  bool has_value;
  bool value;
};
using Store = std::shared_ptr<v8::BackingStore>;
using GetStore = Store (*)(v8::ArrayBuffer*);
using Detach = MaybeBool (*)(v8::ArrayBuffer*, v8::Local<v8::Value>);
using IsDetachable = bool (*)(const v8::ArrayBuffer*);

// The V8 functions, looked up by the Rust side (src/boxes.rs) with dlsym; all non-null.
struct Api {
  NewStore new_store;
  NewBuffer new_buffer;
  Current current;
  Destroy destroy;
  Free free_store;
  Deleter empty;
  GetStore get_store;
  Detach detach;
  IsDetachable is_detachable;
};

// A malloc-backed allocator for the shared pointer's control block.
template <class T>
struct Malloc {
  using value_type = T;
  Malloc() noexcept = default;
  template <class U>
  Malloc(const Malloc<U>&) noexcept {}
  T* allocate(size_t n) {
    void* p = std::malloc(n * sizeof(T));
    if (p == nullptr) std::abort();  // (the control block is a few dozen bytes)
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t) noexcept { std::free(p); }
  template <class U>
  bool operator==(const Malloc<U>&) const noexcept { return true; }
  template <class U>
  bool operator!=(const Malloc<U>&) const noexcept { return false; }
};

// Runs when V8 drops its last reference to the backing store (at the detach, or when the
// buffer is collected; possibly on a V8 background thread): frees V8's object, then tells the
// caller's `gone(hold)`.
struct Release {
  Destroy destroy;
  Free free_store;
  void (*gone)(void*);
  void* hold;
  void operator()(v8::BackingStore* store) const noexcept {
    destroy(store);
    free_store(store);
    gone(hold);
  }
};

}  // namespace

// Never called (the control block above is freed through its allocator), but its class's
// deleting destructor names them; defined here so the addon needs nothing from the C++ runtime
// (the addon exports only its Rust entry points, so this replaces nothing outside it).
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

// An ArrayBuffer over `len` bytes at `data` (a `v8::Local<v8::Value>`, which is what a
// `napi_value` is on Node), or null: then nothing was made and `gone` will not be called.
// Otherwise `gone(hold)` is called exactly once, when V8 no longer refers to the memory.
// Call only on a thread that is running JavaScript on Node, inside a handle scope (a Node-API
// call), with `data..data+len` valid until `gone` is called.
extern "C" void* warden_v8_view(const Api* a, void* data, size_t len, void (*gone)(void*), void* hold) {
  if (len == 0) return nullptr;
  v8::Isolate* isolate = a->current();
  if (isolate == nullptr) return nullptr;
  v8::BackingStore* store = a->new_store(data, len, a->empty, nullptr).release();
  if (store == nullptr) return nullptr;
  std::shared_ptr<v8::BackingStore> shared(store, Release{a->destroy, a->free_store, gone, hold},
                                           Malloc<v8::BackingStore>());
  v8::Local<v8::ArrayBuffer> buffer = a->new_buffer(isolate, std::move(shared));
  return buffer.val_;
}

// Moving an ArrayBuffer's memory to another thread without a copy, as postMessage's transfer
// list does: `warden_v8_take` detaches `buffer` (a napi_value of this thread) and returns a
// holder of its memory (null, and nothing changed, if it cannot be detached);
// `warden_v8_give` makes an ArrayBuffer of the calling thread that owns the held memory and
// frees the holder; `warden_v8_drop` frees a holder never given (on any thread). The memory
// keeps the allocator of the thread it came from alive, so it may outlive that thread.
extern "C" void* warden_v8_take(const Api* a, void* buffer) {
  auto* ab = static_cast<v8::ArrayBuffer*>(buffer);
  if (!a->is_detachable(ab)) return nullptr;
  void* place = std::malloc(sizeof(Store));
  if (place == nullptr) return nullptr;
  Store* held = new (place) Store(a->get_store(ab));
  MaybeBool done = a->detach(ab, v8::Local<v8::Value>{nullptr});
  if (!*held || !done.has_value || !done.value) {
    held->~Store();  // (the buffer still holds the memory if it was not detached)
    std::free(place);
    return nullptr;
  }
  return held;
}

extern "C" void* warden_v8_give(const Api* a, void* holder) {
  Store* held = static_cast<Store*>(holder);
  v8::Isolate* isolate = a->current();
  void* made = nullptr;
  if (isolate != nullptr) made = a->new_buffer(isolate, std::move(*held)).val_;
  held->~Store();
  std::free(holder);
  return made;
}

extern "C" void warden_v8_drop(void* holder) {
  static_cast<Store*>(holder)->~Store();
  std::free(holder);
}
