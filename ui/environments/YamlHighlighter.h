#pragma once
#include <QSyntaxHighlighter>

namespace Kiln::Ui {

// Colours YAML: comments, keys, list dashes, quoted strings and version specifiers.
class YamlHighlighter final : public QSyntaxHighlighter {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(YamlHighlighter)
public:
    explicit YamlHighlighter(QTextDocument* document);

protected:
    void highlightBlock(const QString& text) override;
};

} // namespace Kiln::Ui
