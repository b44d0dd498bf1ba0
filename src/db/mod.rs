//! TEMPORARY stub of the round-robin storage (replaced by the real module on merge).
use std::path::Path;

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum MemoryMode { None, Ram, Save, Map }
impl MemoryMode {
    pub fn parse(s: &str) -> Option<MemoryMode> {
        match s { "none" => Some(Self::None), "ram" | "alloc" => Some(Self::Ram), "save" => Some(Self::Save), "map" => Some(Self::Map), _ => None }
    }
    pub fn as_str(&self) -> &'static str { match self { Self::None => "none", Self::Ram => "ram", Self::Save => "save", Self::Map => "map" } }
}
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct StorageNumber(f64, bool);
impl StorageNumber {
    pub const EMPTY: StorageNumber = StorageNumber(f64::NAN, false);
    pub fn pack(v: f64, reset: bool) -> Self { StorageNumber(v, reset) }
    pub fn value(self) -> Option<f64> { if self.0.is_nan() { None } else { Some(self.0) } }
    pub fn is_reset(self) -> bool { self.1 }
    pub fn is_empty(self) -> bool { self.0.is_nan() }
}
pub struct StoreSpec<'a> { pub mode: MemoryMode, pub dir: Option<&'a Path>, pub chart_id: &'a str, pub dim_id: &'a str, pub update_every: u32, pub entries: u32 }
pub struct DimensionStore { ue: u32, slots: Vec<(i64, StorageNumber)>, mode: MemoryMode }
impl DimensionStore {
    pub fn open(spec: &StoreSpec) -> DimensionStore { DimensionStore { ue: spec.update_every, slots: Vec::new(), mode: spec.mode } }
    pub fn store(&mut self, t: i64, v: StorageNumber) { if self.mode != MemoryMode::None { self.slots.push((t, v)) } }
    pub fn get(&self, t: i64) -> StorageNumber { self.slots.iter().rev().find(|s| s.0 == t).map(|s| s.1).unwrap_or(StorageNumber::EMPTY) }
    pub fn first_t(&self) -> Option<i64> { self.slots.first().map(|s| s.0) }
    pub fn last_t(&self) -> Option<i64> { self.slots.last().map(|s| s.0) }
    pub fn update_every(&self) -> u32 { self.ue }
    pub fn mode(&self) -> MemoryMode { self.mode }
    pub fn query(&self, after: i64, before: i64, out: &mut Vec<(i64, StorageNumber)>) { out.extend(self.slots.iter().filter(|s| s.0 >= after && s.0 <= before)) }
    pub fn save(&mut self) -> std::io::Result<()> { Ok(()) }
    pub fn memory_bytes(&self) -> usize { 0 }
}
