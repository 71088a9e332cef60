// proxflow-config-doc: prints the configuration reference (Markdown) of
// proxflow.v1.TrainingConfig from the comments in config.proto, read from a
// descriptor set built with source info. docs/CONFIGURATION.md embeds its
// output between markers, and a test fails when the two differ.
//   proxflow-config-doc DESCRIPTOR_SET.pb
#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>

#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace gpb = google::protobuf;

std::string OneLine(std::string text) {
  std::string out;
  bool space = false;
  for (char c : text) {
    if (c == '\n' || c == ' ' || c == '\t') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c == '|' ? '/' : c;
  }
  return out;
}

template <typename D>
std::string Comment(const D* d) {
  gpb::SourceLocation where;
  if (!d->GetSourceLocation(&where)) return "";
  return OneLine(where.leading_comments.empty() ? where.trailing_comments
                                                : where.leading_comments);
}

std::string TypeName(const gpb::FieldDescriptor* f) {
  std::string t;
  if (f->enum_type() != nullptr) {
    t = "[" + f->enum_type()->name() + "](#" + f->enum_type()->name() + ")";
  } else if (f->message_type() != nullptr) {
    t = f->message_type()->name();
  } else {
    t = f->type_name();
  }
  return f->is_repeated() ? "list of " + t : t;
}

void Fields(const gpb::Descriptor* type, const std::string& prefix,
            std::vector<const gpb::EnumDescriptor*>& enums, std::ostream& out) {
  for (int i = 0; i < type->field_count(); ++i) {
    const gpb::FieldDescriptor* f = type->field(i);
    const std::string path = prefix + f->name();
    if (f->message_type() != nullptr && !f->is_repeated()) {
      const std::string c = Comment(f);
      if (!c.empty())
        out << "| `" << path << "` | " << f->message_type()->name() << " | "
            << c << " |\n";
      Fields(f->message_type(), path + ".", enums, out);
      continue;
    }
    if (f->enum_type() != nullptr) {
      bool seen = false;
      for (auto* e : enums) seen |= e == f->enum_type();
      if (!seen) enums.push_back(f->enum_type());
    }
    std::string meaning = Comment(f);
    if (meaning.empty() && f->enum_type() != nullptr)
      meaning = Comment(f->enum_type());
    out << "| `" << path << "` | " << TypeName(f) << " | " << meaning << " |\n";
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: proxflow-config-doc DESCRIPTOR_SET.pb\n";
    return 2;
  }
  std::ifstream in(argv[1], std::ios::binary);
  gpb::FileDescriptorSet set;
  if (!set.ParseFromIstream(&in)) {
    std::cerr << "proxflow-config-doc: cannot parse " << argv[1] << "\n";
    return 1;
  }
  gpb::DescriptorPool pool;
  for (const gpb::FileDescriptorProto& file : set.file()) pool.BuildFile(file);
  const gpb::Descriptor* root =
      pool.FindMessageTypeByName("proxflow.v1.TrainingConfig");
  if (root == nullptr) {
    std::cerr << "proxflow-config-doc: no proxflow.v1.TrainingConfig in "
              << argv[1] << "\n";
    return 1;
  }
  std::ostringstream out;
  std::vector<const gpb::EnumDescriptor*> enums;
  out << "Generated from the comments of `proto/proxflow/v1/config.proto` by "
         "`scripts/config-reference`. Field paths are what `--set` and config "
         "files use "
         "(the JSON names, e.g. `batchSize`, work too); unset fields come from "
         "the preset.\n\n"
      << "| field | type | meaning |\n|---|---|---|\n";
  Fields(root, "", enums, out);
  for (const gpb::EnumDescriptor* e : enums) {
    out << "\n<a id=\"" << e->name() << "\"></a>**" << e->name() << "**";
    const std::string c = Comment(e);
    out << (c.empty() ? "" : ": " + c) << "\n\n";
    for (int i = 0; i < e->value_count(); ++i) {
      const gpb::EnumValueDescriptor* v = e->value(i);
      if (v->number() == 0) continue;  // *_UNSPECIFIED: the preset decides
      const std::string vc = Comment(v);
      out << "- `" << v->name() << "`" << (vc.empty() ? "" : ": " + vc) << "\n";
    }
  }
  std::cout << out.str();
  return 0;
}
