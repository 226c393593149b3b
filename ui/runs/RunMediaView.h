#pragma once
#include <QImage>
#include <QVariantMap>
#include <QWidget>

#include <nlohmann/json_fwd.hpp>

QT_BEGIN_NAMESPACE
class QComboBox;
class QLabel;
class QListWidget;
class QSlider;
class QStackedWidget;
class QTableWidget;
QT_END_NAMESPACE

namespace Kiln::Api {
class Client;
}

namespace Kiln::Ui {

class WorkspaceConnection;

// A run's images and tables, read from its kept files (at most 500 images of 32 MB, 100,000 rows a table):
// {images: [{name, description, data (the file's bytes)}], tables: [{name, rows: [{column: value}]}]}.
// Blocking: call it on a worker (WorkspaceConnection::call).
nlohmann::json readRunMedia(Api::Client& c, qint64 runId);

// A run's images and tables, as its script logged them (run.log_image, log_row, log_table): the kept files
// logs/images.jsonl (each image's name, file and description) and logs/tables.jsonl (rows by table). On the
// left one thumbnail per image name (its latest); the selected name large on the right, with a slider over
// the series when it was logged more than once (double-click or Enter: full size). Below, each table.
class RunMediaView final : public QWidget {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RunMediaView)
public:
    RunMediaView(WorkspaceConnection& connection, qint64 runId, QWidget* parent = nullptr);

    void load();
    // Small: the run page's lower pane may be dragged down to a few lines whichever tab is open.
    QSize minimumSizeHint() const override { return {120, 60}; }
    QListWidget* images() const { return m_images; }
    QSlider* series() const { return m_series; }
    QLabel* preview() const { return m_preview; }
    QComboBox* tableChoice() const { return m_tableChoice; }
    QTableWidget* table() const { return m_table; }

Q_SIGNALS:
    void loaded(int images, int tables);

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    void show(const nlohmann::json& media);
    void showImage();
    void showTable();
    void openFullSize();

    WorkspaceConnection& m_connection;
    qint64 m_runId;
    QStackedWidget* m_stack;
    QLabel* m_empty;
    QListWidget* m_images;
    QLabel* m_preview;
    QLabel* m_caption;
    QSlider* m_series;
    QComboBox* m_tableChoice;
    QTableWidget* m_table;
    QList<QList<QImage>> m_byName;     // each name's images, in the order logged
    QList<QStringList> m_descriptions; // and their descriptions
    QStringList m_tableNames;
    QList<QList<QVariantMap>> m_tableRows; // each table's rows
};

} // namespace Kiln::Ui
