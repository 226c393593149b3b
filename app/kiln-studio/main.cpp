// kiln-studio: the desktop studio. See ui/app/MainWindow.h.
#include "app/MainWindow.h"
#include "app/Theme.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QIcon>

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("Kiln Studio"));
    QApplication::setOrganizationName(QStringLiteral("Kiln"));
    QApplication::setApplicationVersion(QStringLiteral(KILN_VERSION));
    QApplication::setDesktopFileName(QStringLiteral("org.kiln.Studio")); // the installed .desktop entry
    QApplication::setWindowIcon(QIcon::fromTheme(QStringLiteral("org.kiln.Studio"))); // hicolor, SVG + PNGs
    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Kiln Studio: machine-learning experiments on your machine"));
    parser.addHelpOption();
    parser.addVersionOption();
    QCommandLineOption workspace(QStringLiteral("workspace"), QStringLiteral("Workspace folder"),
                                 QStringLiteral("DIR"));
    parser.addOption(workspace);
    QCommandLineOption run(QStringLiteral("run"), QStringLiteral("Open this run"), QStringLiteral("ID"));
    parser.addOption(run);
    parser.process(app);
    Kiln::Ui::Theme::apply(Kiln::Ui::Theme::saved());

    Kiln::Ui::MainWindow window(parser.value(workspace));
    if (parser.isSet(run))
        window.openRunWhenConnected(parser.value(run).toLongLong());
    window.show();
    return app.exec();
}
