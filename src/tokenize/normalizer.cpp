// Unicode normalization forms through ICU, and sequences of normalizers (see normalizer.hpp).
#include "mpitune/tokenize/normalizer.hpp"

#include "mpitune/core/error.hpp"

#ifdef MPITUNE_HAVE_ICU
#include <unicode/unorm2.h>
#include <unicode/ustring.h>
#endif

namespace mpitune {
namespace {

#ifdef MPITUNE_HAVE_ICU

void check_icu(UErrorCode status, const char* what) {
  if (U_FAILURE(status)) throw InfraError(std::string("ICU ") + what + " failed: " + u_errorName(status));
}

class UnicodeNormalizer final : public Normalizer {
 public:
  explicit UnicodeNormalizer(UnicodeForm form) {
    UErrorCode status = U_ZERO_ERROR;
    switch (form) {
      case UnicodeForm::NFC: norm_ = unorm2_getNFCInstance(&status); break;
      case UnicodeForm::NFD: norm_ = unorm2_getNFDInstance(&status); break;
      case UnicodeForm::NFKC: norm_ = unorm2_getNFKCInstance(&status); break;
      case UnicodeForm::NFKD: norm_ = unorm2_getNFKDInstance(&status); break;
    }
    check_icu(status, "unorm2_get*Instance");
  }

  std::string normalize(std::string_view text) const override {
    // ASCII is invariant under every form: most text never reaches ICU.
    bool ascii = true;
    for (char c : text)
      if (static_cast<unsigned char>(c) >= 0x80) {
        ascii = false;
        break;
      }
    if (ascii) return std::string(text);

    UErrorCode status = U_ZERO_ERROR;
    int32_t len16 = 0;
    u_strFromUTF8(nullptr, 0, &len16, text.data(), static_cast<int32_t>(text.size()), &status);
    if (status != U_BUFFER_OVERFLOW_ERROR) check_icu(status, "u_strFromUTF8 (size)");
    std::u16string in(static_cast<size_t>(len16), u'\0');
    status = U_ZERO_ERROR;
    u_strFromUTF8(reinterpret_cast<UChar*>(in.data()), len16, nullptr, text.data(),
                  static_cast<int32_t>(text.size()), &status);
    check_icu(status, "u_strFromUTF8");

    status = U_ZERO_ERROR;
    if (unorm2_isNormalized(norm_, reinterpret_cast<const UChar*>(in.data()), len16, &status) && U_SUCCESS(status))
      return std::string(text);

    // Decompositions grow text by a bounded factor; retry once with the size ICU asks for.
    std::u16string out(static_cast<size_t>(len16) * 3 + 16, u'\0');
    status = U_ZERO_ERROR;
    int32_t n = unorm2_normalize(norm_, reinterpret_cast<const UChar*>(in.data()), len16,
                                 reinterpret_cast<UChar*>(out.data()), static_cast<int32_t>(out.size()), &status);
    if (status == U_BUFFER_OVERFLOW_ERROR) {
      out.assign(static_cast<size_t>(n), u'\0');
      status = U_ZERO_ERROR;
      n = unorm2_normalize(norm_, reinterpret_cast<const UChar*>(in.data()), len16,
                           reinterpret_cast<UChar*>(out.data()), n, &status);
    }
    check_icu(status, "unorm2_normalize");

    int32_t len8 = 0;
    status = U_ZERO_ERROR;
    u_strToUTF8(nullptr, 0, &len8, reinterpret_cast<const UChar*>(out.data()), n, &status);
    if (status != U_BUFFER_OVERFLOW_ERROR) check_icu(status, "u_strToUTF8 (size)");
    std::string result(static_cast<size_t>(len8), '\0');
    status = U_ZERO_ERROR;
    u_strToUTF8(result.data(), len8, nullptr, reinterpret_cast<const UChar*>(out.data()), n, &status);
    check_icu(status, "u_strToUTF8");
    return result;
  }

 private:
  const UNormalizer2* norm_ = nullptr;  // owned by ICU, immutable and thread-safe
};

#endif  // MPITUNE_HAVE_ICU

class SequenceNormalizer final : public Normalizer {
 public:
  explicit SequenceNormalizer(std::vector<std::unique_ptr<Normalizer>> steps) : steps_(std::move(steps)) {}
  std::string normalize(std::string_view text) const override {
    std::string s(text);
    for (const auto& step : steps_) s = step->normalize(s);
    return s;
  }

 private:
  std::vector<std::unique_ptr<Normalizer>> steps_;
};

}  // namespace

std::unique_ptr<Normalizer> make_unicode_normalizer(UnicodeForm form) {
#ifdef MPITUNE_HAVE_ICU
  return std::make_unique<UnicodeNormalizer>(form);
#else
  (void)form;
  throw ConfigError("data.tokenizer", "this tokenizer.json normalizes Unicode (NFC/NFD/NFKC/NFKD) and this build has no ICU",
                    "install libicu-dev and rebuild");
#endif
}

std::unique_ptr<Normalizer> make_sequence_normalizer(std::vector<std::unique_ptr<Normalizer>> steps) {
  return std::make_unique<SequenceNormalizer>(std::move(steps));
}

}  // namespace mpitune
