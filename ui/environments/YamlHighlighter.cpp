#include "YamlHighlighter.h"

#include <QRegularExpression>

namespace Kiln::Ui {

YamlHighlighter::YamlHighlighter(QTextDocument* document)
    : QSyntaxHighlighter(document) {}

void YamlHighlighter::highlightBlock(const QString& text) {
    static const QRegularExpression key(QStringLiteral("^\\s*(?:-\\s+)?([A-Za-z0-9_.-]+)\\s*:(?=\\s|$)"));
    static const QRegularExpression dash(QStringLiteral("^\\s*(-)\\s"));
    static const QRegularExpression quoted(QStringLiteral("\"[^\"]*\"|'[^']*'"));
    static const QRegularExpression version(QStringLiteral("(==|>=|<=|~=|!=|=|<|>)[A-Za-z0-9.*]+"));
    static const QRegularExpression comment(QStringLiteral("(^|\\s)#.*$"));

    QTextCharFormat keyFormat, dashFormat, stringFormat, versionFormat, commentFormat;
    keyFormat.setForeground(QColor(0x1f, 0x5f, 0xae));
    keyFormat.setFontWeight(QFont::Bold);
    dashFormat.setForeground(QColor(0x8e, 0x6c, 0xd8));
    stringFormat.setForeground(QColor(0x2e, 0x7d, 0x32));
    versionFormat.setForeground(QColor(0xb2, 0x5c, 0x00));
    commentFormat.setForeground(QColor(0x80, 0x80, 0x80));
    commentFormat.setFontItalic(true);

    if (auto m = dash.match(text); m.hasMatch())
        setFormat(m.capturedStart(1), 1, dashFormat);
    if (auto m = key.match(text); m.hasMatch())
        setFormat(m.capturedStart(1), m.capturedLength(1), keyFormat);
    for (auto it = version.globalMatch(text); it.hasNext();) {
        auto m = it.next();
        setFormat(m.capturedStart(), m.capturedLength(), versionFormat);
    }
    for (auto it = quoted.globalMatch(text); it.hasNext();) {
        auto m = it.next();
        setFormat(m.capturedStart(), m.capturedLength(), stringFormat);
    }
    if (auto m = comment.match(text); m.hasMatch())
        setFormat(m.capturedStart(), m.capturedLength(), commentFormat);
}

} // namespace Kiln::Ui
