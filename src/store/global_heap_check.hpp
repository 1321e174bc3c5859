// Private to src/store: checks a file's global heap collections before HDF5 reads from them.
//
// Why: the root attributes are variable-length strings, whose bytes HDF5 keeps in a "global
// heap collection" (signature GCOL), the one piece of metadata of a result file that has no
// checksum. HDF5 1.10 trusts the object sizes it finds there: a damaged size makes H5Aread copy
// past its buffer (a crash), and a zero size makes the collection's parser loop forever (a
// hang), both seen by the fuzz benchmark (bench/result_fuzz.cpp). So the reader first finds
// every collection in the file and checks that its objects tile it exactly, as HDF5's parser
// walks them (file format specification, "Global Heap"):
//
//   "GCOL", version 1, 3 reserved bytes, collection size (size-of-lengths bytes); then objects:
//   heap index (2), reference count (2), 4 reserved, object size (L), data padded to 8 bytes;
//   index 0 is the free space, whose size counts its own header; a tail shorter than an object
//   header is free space too.
//
// The search reads the whole file once: 70 ms for a 108 MB file in the page cache, against
// 220 ms for reading its rows.
// A "GCOL" that is not followed by version 1 is not taken for a collection (HDF5 would refuse
// such a collection by its version anyway).
#pragma once

#include <string>

namespace mpitune::h5 {

// Throws BadFileError naming the first damaged collection. Files whose superblock is not at
// byte 0 (a user block) are not checked; files that cannot be read throw InfraError.
void check_global_heaps(const std::string& path);

}  // namespace mpitune::h5
